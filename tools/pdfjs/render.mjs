// render.mjs renders one page of a PDF with pdf.js (pdfjs-dist) under Node
// and writes it as a PNG, as Firefox's viewer would draw it: the page and
// its annotations' appearances, form fields included (AnnotationMode.ENABLE_FORMS
// draws widgets that have no HTML form element, such as signatures, on the
// canvas). The engine's render tests compare its output with poppler's and
// MuPDF's.
//
//   node render.mjs FILE PAGE DPI OUT.png
//
// It exits 1, saying why, when the file or the page cannot be rendered.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getDocument, AnnotationMode } from "pdfjs-dist/legacy/build/pdf.mjs";

const [file, pageArg, dpiArg, out] = process.argv.slice(2);
if (!file || !pageArg || !dpiArg || !out) {
  console.error("usage: node render.mjs FILE PAGE DPI OUT.png");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "node_modules", "pdfjs-dist");
try {
  const data = new Uint8Array(await readFile(file));
  const doc = await getDocument({
    data,
    standardFontDataUrl: join(dist, "standard_fonts") + "/",
    cMapUrl: join(dist, "cmaps") + "/",
    cMapPacked: true,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const page = await doc.getPage(Number(pageArg));
  const viewport = page.getViewport({ scale: Number(dpiArg) / 72 });
  const cc = doc.canvasFactory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  cc.context.fillStyle = "#ffffff";
  cc.context.fillRect(0, 0, cc.canvas.width, cc.canvas.height);
  await page.render({ canvasContext: cc.context, canvas: cc.canvas, viewport, annotationMode: AnnotationMode.ENABLE_FORMS }).promise;
  await writeFile(out, cc.canvas.toBuffer("image/png"));
  await doc.destroy();
} catch (e) {
  console.error(`pdf.js: ${file} page ${pageArg}: ${e && e.message ? e.message : e}`);
  process.exit(1);
}
