// Package pdf puts a township's electronic seal on a PDF: the visible seal
// image and an SM2 signature (a detached CMS SignedData over the SM3 digest
// of the signed byte ranges), added as an incremental update so that the
// original bytes, and every signature already in the document, stay as they
// were.
//
// Seal is the engine. It reads the document lazily, from the end: the
// cross-reference chain (tables, streams, hybrid files, object streams,
// linearized files, PDF 2.0) and then only the objects a seal needs — the
// catalog, the form, the path through the page tree to the pages sealed,
// and, for keyword and default placement, those pages' content and fonts.
// Documents encrypted with the standard security handler and an empty user
// password (RC4, AES-128, AES-256) are sealed with the new objects
// encrypted as the file requires.
// It refuses what it cannot seal correctly with errors that errors.Is can
// tell apart (ErrEncrypted, ErrDamaged, ErrCertifiedNoChanges…), each
// saying what to do. It decodes and compresses a seal image once
// (NewSealImage) and reuses it for every document.
//
// The package touches only what it is given: the source as an
// io.ReaderAt, the output io.Writer, and the Signer, which holds the key
// (*cms.Signer from seal/cms satisfies it). It names no files: a caller
// that writes the output to one writes it atomically.
//
// A small hostile file can ask for gigabytes: a stream that inflates a
// thousandfold, one stream named many times, object streams of tens of
// megabytes, arrays of millions of numbers. Limits bound what one
// document may cost, sealing (Request.Limits) and verifying (Analyze)
// alike: the bytes its streams decode in all and each, the object streams
// kept decoded, the objects it defines and the values parsed from them.
// Their defaults keep one document well under 128 MiB. A document that
// needs more is refused with a *LimitError that names the limit and is
// ErrTooLarge. Fixed bounds cover the rest: nesting depth, the
// cross-reference chain, content operators and glyphs per page. Seal and
// Analyze stop, with the context's error, when their context ends.
package pdf
