// The public verification page: the reader's PDF is verified here, in the
// browser, by the same Go verifier as `sealctl verify` compiled to
// WebAssembly (esealVerify, from verify.wasm). The page fetches only the
// county's trust bundle and latest CRL (GET ../v1/trust, ../v1/crl), or
// reads them from bundle.js in the offline folder. Only when the browser
// has no WebAssembly, and the reader asks for it, is the file sent to the
// service (POST ../v1/verify).
//
// Opened from a document's verification QR code (/verify/?r=<short>), the
// page also asks the public lookup (GET ../v1/public/sealings/<short>) for
// the ledger's public record of that sealing, shows it, and once a file is
// verified says whether the file's SM3 is the recorded sealed document's.
(() => {
  'use strict';

  const T = {
    zh: {
      title: '电子印章验证', switchTo: 'English', switchLabel: 'Switch to English',
      privacy: '文件只在您的设备上核验，不会上传到任何服务器。本页只从服务下载县级根证书和最新的证书吊销列表。',
      privacyOffline: '文件只在您的设备上核验，不会上传到任何地方。本离线验证页使用随附的县级根证书和证书吊销列表。',
      loading: '正在加载验证程序…', ready: '验证程序已就绪。请选择文件。', verifying: '正在核验…',
      done: '核验完成。', drop: '将已盖章的 PDF 拖到这里，或点击选择文件', 'drop-sub': '支持一个 PDF 文件',
      roots: '添加其他根证书（可选）', 'roots-help': '验证其他机构签署的文件时，可以加入该机构的根证书（PEM 或 DER）。它只在本页使用。',
      'root-pick': '选择根证书文件', rootAdded: '已加入根证书：', rootBad: '无法读取根证书：',
      fallback: '此浏览器不支持 WebAssembly，无法在本机核验。可以把文件发送到验证服务，由服务核验并返回结果；服务不保存文件。',
      send: '发送到服务器验证', sentNote: '此结果由验证服务核验（文件已发送到服务器）。',
      offline: '下载离线验证页（含县级根证书，可在本机直接打开）',
      valid: '有效', invalid: '无效', unreadable: '无法读取此文件',
      allValid: '所有签章有效，签章后文件未被修改。', seeBelow: '详见下方每个签章的核验结果。',
      fileLabel: '文件', sigCount: (n, v) => `${n} 个签章，${v} 个有效`,
      sig: '签章', seal: '印章', township: '乡镇代码', item: '事项', caseNo: '办件编号', time: '签章时间',
      proven: '（可信时间戳证明）', claimedCms: '（签章者声明，未经时间戳证明）', claimedPdf: '（签章者声明，未经时间戳证明）',
      noTime: '未声明', chain: '证书链', chainOk: '可追溯到县级根证书', chainBad: '不能追溯到受信任的根证书',
      anchor: '根证书', revocation: '吊销状态', good: '未吊销', revoked: '已吊销（注销）', suspended: '已挂失',
      unknownRev: '未知（没有证书吊销列表）', since: '自', crlFrom: '依据服务最新的证书吊销列表，生成于 ',
      crlOffline: '依据离线页随附的证书吊销列表，生成于 ', noCrl: '服务尚未发布证书吊销列表。',
      changes: '签章后的修改', noChanges: '签章后未追加任何修订', allowed: '允许', forbidden: '不允许（改变了页面显示的内容）',
      rev: n => `第 ${n} 版`, pages: p => `，第 ${p} 页`, where: '印章位置', page: n => `第 ${n} 页`, noSeal: '不可见签名（页面上没有印章图像）',
      reasons: '无效原因', warnings: '提示', sealNote: '印章名称（此签章没有登记的印章图像；印章图像以 PDF 中显示的为准）',
      picMatches: '印章图像（电子印章数据中登记的图像，与文件中所盖的一致）', picDiffers: '电子印章数据中登记的印章图像（与文件中所盖的不一致）',
      trustOnline: '信任：本服务发布的县级根证书', trustOffline: '信任：离线页随附的县级根证书，',
      trustFail: '无法下载县级根证书：', wasmFail: '无法加载验证程序：', notPdf: '请选择 PDF 文件。',
      ledgerTitle: '账本中的盖章记录', ledgerLoading: '正在查询服务账本中的盖章记录…',
      ledgerFound: n => `服务账本中有 ${n} 条与此二维码相符的盖章记录（公开记录，不含个人信息）。请将您收到的 PDF 文件拖到下方，比对它是否就是账本记录的盖章文件。`,
      ledgerNone: '没有这个盖章记录：服务账本中没有与此二维码相符的盖章。此二维码可能不是本服务生成的。',
      ledgerBad: '二维码中的编号格式不正确，无法查询。', ledgerBusy: '查询过于频繁，请稍后再试。', ledgerFail: '无法查询服务账本：',
      ledgerTruncated: '（只列出最早的几条）',
      recSeq: '账本序号', recTime: '记录时间', recTownship: '乡镇', recItem: '事项', recIn: '盖章前文件 SM3', recOut: '盖章后文件 SM3',
      match: n => `一致：此文件就是账本第 ${n} 号记录的盖章文件（SM3 相同）。`,
      mismatch: '不一致：此文件不是账本记录的盖章文件（SM3 不同），它可能是另一份文件，或盖章后被修改过。',
      compareServer: '由服务器核验时，本页不计算文件的 SM3，无法与账本记录比对。',
    },
    en: {
      title: 'Electronic seal verification', switchTo: '中文', switchLabel: '切换到中文',
      privacy: 'Your file is checked on this device only and is never uploaded. This page downloads only the county root certificate and the latest certificate revocation list from the service.',
      privacyOffline: 'Your file is checked on this device only and is never uploaded. This offline page uses the county root certificate and revocation list that came with it.',
      loading: 'Loading the verifier…', ready: 'The verifier is ready. Choose a file.', verifying: 'Checking…',
      done: 'Check complete.', drop: 'Drop a sealed PDF here, or click to choose a file', 'drop-sub': 'One PDF file',
      roots: 'Add another root certificate (optional)', 'roots-help': 'To check a file signed by another authority, add its root certificate (PEM or DER). It is used on this page only.',
      'root-pick': 'Choose a root certificate file', rootAdded: 'Root certificates added: ', rootBad: 'Cannot read the root certificate: ',
      fallback: 'This browser has no WebAssembly, so the file cannot be checked on this device. You can send it to the verification service, which checks it and returns the result; the service does not keep it.',
      send: 'Send to the server to verify', sentNote: 'This result was checked by the verification service (the file was sent to the server).',
      offline: 'Download the offline verification page (with the county root; opens from your disk)',
      valid: 'VALID', invalid: 'INVALID', unreadable: 'This file cannot be read',
      allValid: 'Every seal is valid and nothing was changed after sealing.', seeBelow: 'See each seal below.',
      fileLabel: 'File', sigCount: (n, v) => `${n} signature(s), ${v} valid`,
      sig: 'Signature', seal: 'Seal', township: 'Township code', item: 'Item', caseNo: 'Case number', time: 'Signing time',
      proven: ' (proven by a trusted timestamp)', claimedCms: ' (claimed by the signer, not proven by a timestamp)', claimedPdf: ' (claimed by the signer, not proven by a timestamp)',
      noTime: 'none claimed', chain: 'Certificate chain', chainOk: 'leads to the county root', chainBad: 'does not lead to a trusted root',
      anchor: 'root', revocation: 'Revocation', good: 'not revoked', revoked: 'revoked', suspended: 'suspended',
      unknownRev: 'unknown (no revocation list)', since: 'since', crlFrom: 'from the service\'s latest revocation list, issued ',
      crlOffline: 'from the revocation list bundled with this offline page, issued ', noCrl: 'The service has not published a revocation list yet.',
      changes: 'Changes after sealing', noChanges: 'no revision added after sealing', allowed: 'allowed', forbidden: 'not allowed (changes what the page shows)',
      rev: n => `revision ${n}`, pages: p => `, page ${p}`, where: 'Seal drawn', page: n => `page ${n}`, noSeal: 'invisible signature (no seal drawn on any page)',
      reasons: 'Why invalid', warnings: 'Notes', sealNote: 'Seal name (this signature carries no registered picture; the seal\'s picture is as the PDF shows it)',
      picMatches: 'The seal\'s picture (registered in its seal data, and the same as the one drawn in the document)', picDiffers: 'The picture registered in the seal data (not the one drawn in the document)',
      trustOnline: 'Trusting: the county root this service publishes', trustOffline: 'Trusting: the county root bundled with this offline page, ',
      trustFail: 'Cannot download the county root: ', wasmFail: 'Cannot load the verifier: ', notPdf: 'Please choose a PDF file.',
      ledgerTitle: 'The sealing in the ledger', ledgerLoading: 'Looking up the sealing in the service\'s ledger…',
      ledgerFound: n => `The service's ledger holds ${n} sealing(s) that match this QR code (a public record, with no personal data). Drop the PDF file you received below to check that it is the sealed document the ledger recorded.`,
      ledgerNone: 'No such sealing: the service\'s ledger has no sealing that matches this QR code. The code may not come from this service.',
      ledgerBad: 'The number in the QR code is malformed and cannot be looked up.', ledgerBusy: 'Too many lookups; please try again later.',
      ledgerFail: 'Cannot look up the ledger: ', ledgerTruncated: ' (only the earliest are listed)',
      recSeq: 'Ledger number', recTime: 'Recorded', recTownship: 'Township', recItem: 'Item', recIn: 'SM3 before sealing', recOut: 'SM3 of the sealed document',
      match: n => `Match: this file is the sealed document of ledger record ${n} (same SM3).`,
      mismatch: 'No match: this file is not the sealed document the ledger recorded (its SM3 differs); it is another file, or it was changed after sealing.',
      compareServer: 'Verified by the server, the page has no SM3 of the file to compare with the ledger.',
    },
  };
  const KINDS = {
    zh: { signature: '签章', timestamp: '时间戳', dss: '验证数据', annotation: '注释', form_field: '表单域', page_content: '页面内容',
      page_tree: '页面结构', catalog: '文档目录', metadata: '元数据', unreferenced: '未引用的对象', unparseable: '无法解析', trailing_data: '文件末尾数据' },
    en: { signature: 'a signature', timestamp: 'a timestamp', dss: 'validation data', annotation: 'an annotation', form_field: 'a form field',
      page_content: 'page content', page_tree: 'the page tree', catalog: 'the catalog', metadata: 'metadata', unreferenced: 'unreferenced objects',
      unparseable: 'unparseable data', trailing_data: 'trailing data' },
  };

  const $ = id => document.getElementById(id);
  const bundle = window.esealBundle || null; // set by bundle.js in the offline folder
  const offline = !!(bundle && bundle.offline);
  const state = { lang: 'zh', trust: [], crls: [], crlInfo: null, roots: [], rootNames: [], wasm: false, ready: false,
    report: null, viaServer: false, ledger: null, compare: null, pending: null, lastFile: null, pictures: {}, loading: null, status: 'loading', statusArg: '' };
  window.esealTiming = { start: performance.now() };
  // The short form of a sealing, from the verification QR code's URL.
  const short = offline ? '' : (new URLSearchParams(location.search).get('r') || '').toUpperCase();

  const t = k => T[state.lang][k];

  function setStatus(key, arg) {
    state.status = key; state.statusArg = arg || '';
    $('status').textContent = t(key) + (arg || '');
  }

  function applyLang() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = state.lang === 'zh' ? '电子印章验证 · Seal verification' : 'Seal verification · 电子印章验证';
    for (const el of document.querySelectorAll('[data-t]')) {
      const v = T[state.lang][el.dataset.t];
      if (typeof v === 'string') el.textContent = v;
    }
    $('privacy').textContent = t(offline ? 'privacyOffline' : 'privacy');
    const b = $('lang');
    b.textContent = t('switchTo');
    b.setAttribute('aria-label', t('switchLabel'));
    b.setAttribute('lang', state.lang === 'zh' ? 'en' : 'zh-CN');
    $('status').textContent = t(state.status) + state.statusArg;
    showRoots();
    showTrust();
    renderLedger();
    if (state.report) render(state.report);
  }

  // ---- the ledger's public record (the verification QR code) ----
  async function loadLedger() {
    if (!short) return;
    $('ledger').hidden = false;
    state.ledger = { status: 'loading' };
    renderLedger();
    try {
      const resp = await fetch('../v1/public/sealings/' + encodeURIComponent(short), { credentials: 'omit' });
      if (resp.ok) {
        const b = await resp.json();
        state.ledger = { status: 'found', sealings: b.sealings || [], truncated: !!b.truncated };
      } else {
        state.ledger = { status: { 404: 'none', 400: 'bad', 429: 'busy' }[resp.status] || 'fail', err: 'HTTP ' + resp.status };
      }
    } catch (e) {
      state.ledger = { status: 'fail', err: String(e.message || e) };
    }
    renderLedger();
  }

  function renderLedger() {
    const L = state.ledger;
    if (!L) return;
    $('ledger').dataset.state = L.status;
    const st = $('ledger-status');
    st.className = 'ledger-status' + (L.status === 'loading' || L.status === 'found' ? '' : ' bad');
    st.textContent = {
      loading: t('ledgerLoading'), none: t('ledgerNone'), bad: t('ledgerBad'), busy: t('ledgerBusy'), fail: t('ledgerFail') + (L.err || ''),
      found: L.sealings ? t('ledgerFound')(L.sealings.length) + (L.truncated ? t('ledgerTruncated') : '') : '',
    }[L.status];
    const box = $('ledger-records');
    box.replaceChildren();
    for (const s of L.sealings || []) {
      const dl = el('dl', 'record');
      dl.dataset.seq = String(s.seq);
      const row = (k, v, code) => {
        dl.appendChild(el('dt', '', t(k)));
        const dd = el('dd');
        if (code) dd.appendChild(el('code', '', v)); else dd.textContent = v;
        dl.appendChild(dd);
      };
      row('recSeq', String(s.seq));
      row('recTime', fmtTime(s.time));
      row('recTownship', [s.townshipName, s.townshipCode && `(${s.townshipCode})`].filter(Boolean).join(' '));
      row('recItem', [s.itemName, s.itemCode && `(${s.itemCode})`].filter(Boolean).join(' '));
      row('recOut', s.outputSm3, true);
      row('recIn', s.inputSm3, true);
      box.appendChild(dl);
    }
    renderCompare();
  }

  // renderCompare says whether the verified file is the ledger's sealed
  // document: its SM3 against each record's output SM3.
  function renderCompare() {
    const c = $('ledger-compare');
    const L = state.ledger;
    if (!L || L.status !== 'found' || !state.compare) {
      c.hidden = true;
      return;
    }
    c.hidden = false;
    if (!state.compare.sm3) {
      c.className = 'compare unknown';
      c.dataset.match = 'unknown';
      c.textContent = t('compareServer');
      return;
    }
    const hit = L.sealings.find(s => s.outputSm3 === state.compare.sm3);
    c.className = 'compare ' + (hit ? 'match' : 'mismatch');
    c.dataset.match = String(!!hit);
    c.textContent = hit ? t('match')(hit.seq) : t('mismatch');
  }

  // ---- bytes ----
  const b64decode = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
  function b64encode(u8) {
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    return btoa(s);
  }
  async function gunzip(u8) {
    const stream = new Blob([u8]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src; s.onload = resolve; s.onerror = () => reject(new Error(src));
      document.head.appendChild(s);
    });
  }

  // ---- the verifier ----
  async function startWasm() {
    const go = new Go();
    const ready = new Promise(resolve => window.addEventListener('esealready', resolve, { once: true }));
    let instance;
    if (offline) {
      await loadScript('verify-wasm.js'); // window.esealWasmGz: the gzipped module, base64 (file:// cannot fetch)
      const bytes = await gunzip(b64decode(window.esealWasmGz));
      instance = (await WebAssembly.instantiate(bytes, go.importObject)).instance;
    } else {
      try {
        instance = (await WebAssembly.instantiateStreaming(fetch('verify.wasm'), go.importObject)).instance;
      } catch (e) {
        const resp = await fetch('verify.wasm');
        if (!resp.ok) throw new Error('verify.wasm: HTTP ' + resp.status);
        instance = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
      }
    }
    window.esealTiming.instantiated = performance.now(); // fetched and compiled (streaming)
    go.run(instance);
    await ready;
    window.esealTiming.goReady = performance.now(); // the Go runtime and packages initialised
  }

  async function loadTrust() {
    if (bundle && bundle.trust) {
      state.trust = [bundle.trust];
      if (bundle.crl) {
        state.crls = [b64decode(bundle.crl)];
        state.crlInfo = { thisUpdate: bundle.crlThisUpdate, nextUpdate: bundle.crlNextUpdate };
      }
      return;
    }
    const tr = await fetch('../v1/trust', { credentials: 'omit' });
    if (!tr.ok) throw new Error('GET /v1/trust: HTTP ' + tr.status);
    state.trust = [(await tr.json()).pem];
    const cr = await fetch('../v1/crl', { credentials: 'omit' });
    if (cr.ok) {
      const c = await cr.json();
      if (c.der) {
        state.crls = [b64decode(c.der)];
        state.crlInfo = { thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate };
      }
    }
  }

  function showTrust() {
    let s = '';
    if (state.trust.length) {
      s = offline ? t('trustOffline') + (bundle.made ? fmtTime(bundle.made) : '') : t('trustOnline');
      s += state.lang === 'zh' ? '；' : '; ';
      s += state.crlInfo ? t(offline ? 'crlOffline' : 'crlFrom') + fmtTime(state.crlInfo.thisUpdate) : t('noCrl');
    }
    $('trustinfo').textContent = s;
  }

  function showRoots() {
    $('roots-list').textContent = state.rootNames.length ? t('rootAdded') + state.rootNames.join(state.lang === 'zh' ? '、' : ', ') : '';
  }

  // ---- verifying ----
  async function verifyFile(file) {
    if (!file) return;
    state.lastFile = file;
    const name = file.name || 'document.pdf';
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (state.loading) {
      // Picked before the verifier has loaded (a slow connection): wait for
      // it rather than offer the server.
      setStatus('loading');
      await state.loading.catch(() => {});
      if (state.lastFile !== file) return; // another file was picked meanwhile
    }
    if (!state.wasm) {
      state.pending = { name, bytes };
      $('fallback').hidden = false;
      $('send').focus();
      return;
    }
    setStatus('verifying');
    await new Promise(r => setTimeout(r, 0)); // let the status paint
    const t0 = performance.now();
    const out = window.esealVerify(bytes, state.trust.concat(state.roots), state.crls, name);
    window.esealTiming.verifyMs = performance.now() - t0;
    if (out.error) {
      setStatus('wasmFail', out.error);
      return;
    }
    state.viaServer = false;
    state.compare = { sm3: out.sm3 };
    renderCompare();
    setPictures(out.pictures || []);
    show(JSON.parse(out.json), name);
  }

  async function verifyOnServer() {
    const p = state.pending;
    if (!p) return;
    setStatus('verifying');
    const resp = await fetch('../v1/verify', { method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ document: b64encode(p.bytes), trustPem: state.roots.map(r => b64encode(r)) }) });
    const body = await resp.json();
    if (!resp.ok) {
      setStatus('wasmFail', body.message || ('HTTP ' + resp.status));
      return;
    }
    state.viaServer = true;
    state.compare = { sm3: null };
    renderCompare();
    setPictures([]);
    show(body.report, p.name);
  }

  // setPictures keeps the seals' registered pictures (from their SESeal)
  // as object URLs, by signature.
  const MIME = { png: 'image/png', svg: 'image/svg+xml' };
  function setPictures(pics) {
    for (const u of Object.values(state.pictures || {})) URL.revokeObjectURL(u.url);
    state.pictures = {};
    for (const p of pics) {
      if (MIME[p.type]) state.pictures[p.signature] = { url: URL.createObjectURL(new Blob([p.data], { type: MIME[p.type] })), matches: p.matches };
    }
  }

  function show(report, name) {
    report.file = name;
    state.report = report;
    render(report);
    setStatus('done');
    $('result').hidden = false;
    $('verdict').focus();
  }

  // ---- the report in plain words ----
  const fmtTime = s => {
    if (!s) return '';
    const d = new Date(s);
    if (isNaN(d)) return s;
    const f = new Intl.DateTimeFormat(state.lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    return f.format(d) + ' (UTC+8)';
  };

  // plain says a "CODE: meaning: detail" problem in the reader's words.
  function plain(p) {
    const i = p.indexOf(': ');
    const code = i < 0 ? p : p.slice(0, i);
    const rest = i < 0 ? '' : p.slice(i + 2);
    const m = window.esealMeaning ? window.esealMeaning(code) : null;
    if (!m) return rest || p;
    const meaning = state.lang === 'zh' ? m.zh || m.en : m.en;
    const detail = rest.startsWith(m.en) ? rest.slice(m.en.length).replace(/^: /, '') : '';
    return detail ? meaning + (state.lang === 'zh' ? '（' + detail + '）' : ' (' + detail + ')') : meaning;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function cn(dn) {
    const m = /(?:^|,)\s*CN=([^,]+)/.exec(dn || '');
    return m ? m[1] : dn;
  }

  function render(r) {
    const valid = r.verdict === 'valid';
    $('banner').className = 'banner ' + (valid ? 'valid' : 'invalid');
    $('result').dataset.verdict = r.verdict;
    $('verdict').textContent = valid ? t('valid') : t('invalid');
    const sigs = r.signatures || [];
    let why = '';
    if (valid) why = t('allValid');
    else if (r.verdict === 'unreadable') why = t('unreadable') + (r.reasons.length ? (state.lang === 'zh' ? '：' : ': ') + plain(r.reasons[0]) : '');
    else {
      const first = (r.reasons || [])[0] || sigs.flatMap(s => s.reasons || [])[0];
      why = first ? plain(first) : t('seeBelow');
    }
    $('why').textContent = why;
    const nValid = sigs.filter(s => s.valid).length;
    $('where').textContent = `${t('fileLabel')}${state.lang === 'zh' ? '：' : ': '}${r.file}` +
      (sigs.length ? ' · ' + t('sigCount')(sigs.length, nValid) : '') + (state.viaServer ? ' · ' + t('sentNote') : '');
    const box = $('sigs');
    box.replaceChildren();
    sigs.forEach((s, i) => box.appendChild(renderSig(s, i + 1)));
  }

  function renderSig(s, n) {
    const sec = el('section', 'sig');
    sec.setAttribute('aria-label', `${t('sig')} ${n}`);
    sec.dataset.valid = String(s.valid);
    const h = el('h3');
    const pic = (state.pictures || {})[n - 1];
    if (pic) {
      const img = el('img', 'seal-picture');
      img.src = pic.url;
      img.alt = `${t(pic.matches ? 'picMatches' : 'picDiffers')}: ${s.sealName || s.signer || ''}`;
      img.title = t(pic.matches ? 'picMatches' : 'picDiffers');
      h.appendChild(img);
    } else {
      const seal = el('span', 'seal', s.sealName || s.signer || '?');
      seal.setAttribute('role', 'img');
      seal.setAttribute('aria-label', `${t('sealNote')}: ${s.sealName || s.signer || ''}`);
      seal.title = t('sealNote');
      h.appendChild(seal);
    }
    h.appendChild(el('span', '', `${t('sig')} ${n}`));
    h.appendChild(el('span', 'tag ' + (s.valid ? 'valid' : 'invalid'), s.valid ? t('valid') : t('invalid')));
    sec.appendChild(h);

    const dl = el('dl');
    const row = (k, v, cls) => {
      if (v === undefined || v === null || v === '') return;
      dl.appendChild(el('dt', '', t(k)));
      const dd = el('dd', cls || '');
      if (v instanceof Node) dd.appendChild(v); else dd.textContent = v;
      dl.appendChild(dd);
    };
    if ((s.reasons || []).length) row('reasons', list(s.reasons.map(plain)), 'bad');
    row('seal', s.sealName || cn(s.signer));
    row('township', s.townshipCode);
    row('item', [s.itemName, s.itemCode && `(${s.itemCode})`].filter(Boolean).join(' '));
    row('caseNo', s.caseNo);
    if (s.provenTime) row('time', fmtTime(s.provenTime) + t('proven'));
    else if (s.signingTime) row('time', fmtTime(s.signingTime) + t(s.signingTimeSource === 'pdf' ? 'claimedPdf' : 'claimedCms'));
    else row('time', t('noTime'));
    const chain = (s.chain || []).map(c => cn(c.subject) + (c.trustAnchor ? ` (${t('anchor')})` : ''));
    row('chain', (s.chainTrusted ? '✓ ' + t('chainOk') : '✗ ' + t('chainBad')) + (chain.length ? ': ' + chain.join(' → ') : ''), s.chainTrusted ? 'ok' : 'bad');
    const rev = { good: t('good'), revoked: t('revoked'), suspended: t('suspended') }[s.revocation] || t('unknownRev');
    let revText = rev + (s.revokedAt ? ` (${t('since')} ${fmtTime(s.revokedAt)})` : '');
    if (state.crlInfo && !state.viaServer) revText += (state.lang === 'zh' ? '；' : '; ') + t(offline ? 'crlOffline' : 'crlFrom') + fmtTime(state.crlInfo.thisUpdate);
    row('revocation', revText, s.revocation === 'good' ? 'ok' : (s.revocation === 'unknown' ? '' : 'bad'));
    const later = s.laterRevisions || [];
    row('changes', later.length ? list(later.map(c => `${t('rev')(c.revision)}: ${KINDS[state.lang][c.kind] || c.kind}` +
      ((c.pages || []).length ? t('pages')(c.pages.join(', ')) : '') + ' — ' + (c.allowed ? t('allowed') : t('forbidden')))) : t('noChanges'),
      later.some(c => !c.allowed) ? 'bad' : '');
    const seals = (s.seals || []).filter(p => p.drawn);
    row('where', seals.length ? seals.map(p => t('page')(p.page)).join(state.lang === 'zh' ? '、' : ', ') : t('noSeal'));
    if ((s.warnings || []).length) row('warnings', list(s.warnings.map(plain)));
    sec.appendChild(dl);
    return sec;
  }

  function list(items) {
    const ul = el('ul', 'plain');
    for (const it of items) ul.appendChild(el('li', '', it));
    return ul;
  }

  // ---- wiring ----
  $('lang').addEventListener('click', () => { state.lang = state.lang === 'zh' ? 'en' : 'zh'; applyLang(); });
  $('file').addEventListener('change', e => verifyFile(e.target.files[0]).catch(err => setStatus('wasmFail', String(err))));
  $('send').addEventListener('click', () => verifyOnServer().catch(err => setStatus('wasmFail', String(err))));
  $('root').addEventListener('change', async e => {
    const f = e.target.files[0];
    if (!f) return;
    state.roots.push(new Uint8Array(await f.arrayBuffer()));
    state.rootNames.push(f.name);
    showRoots();
    if (state.wasm && state.lastFile) verifyFile(state.lastFile); // again, with the new root
  });
  const drop = $('drop');
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) verifyFile(f).catch(err => setStatus('wasmFail', String(err)));
  });
  if (offline) $('offline').parentElement.hidden = true;

  applyLang();
  // The page works from here: a file dropped or picked now waits for the
  // verifier (state.loading), the language button and the ledger's record
  // do not.
  window.esealTiming.interactive = performance.now();
  document.body.dataset.interactive = 'true';
  loadLedger(); // beside the verifier's loading: it needs none of it
  // state.loading is pending until the trust and the verifier have loaded
  // (or failed): a file picked meanwhile waits for it. The WebAssembly is
  // fetched and compiled while the trust bundle and CRL are fetched, not
  // after them.
  const hasWasm = typeof WebAssembly === 'object' && typeof Go === 'function';
  const wasmLoad = hasWasm ? startWasm() : null;
  if (wasmLoad) wasmLoad.catch(() => {}); // its failure is reported below, once the trust is in
  state.loading = (async () => {
    try {
      await loadTrust();
      showTrust();
    } catch (e) {
      setStatus('trustFail', String(e.message || e));
      return;
    }
    if (!hasWasm) {
      $('fallback').hidden = offline; // the offline page has no server to fall back on
      setStatus('ready');
      return;
    }
    try {
      await wasmLoad;
      state.wasm = true;
    } catch (e) {
      setStatus('wasmFail', String(e.message || e));
      if (!offline) $('fallback').hidden = false;
      return;
    }
    state.ready = true;
    window.esealTiming.ready = performance.now();
    document.body.dataset.ready = 'true';
    setStatus('ready');
    // Verify a small embedded document once while the reader chooses a
    // file: the first verification would otherwise pay for the verifier's
    // set-up (webverify.Warm).
    setTimeout(() => {
      const t0 = performance.now();
      window.esealWarm();
      window.esealTiming.warmMs = performance.now() - t0;
    }, 0);
  })().finally(() => { state.loading = null; });
})();
