//go:build js && wasm

// Command verifywasm is the public verification page's verifier, built
// with GOOS=js GOARCH=wasm (scripts/verifywasm.sh) and embedded, gzipped,
// in package verifyweb. It sets the JavaScript function
//
//	esealVerify(pdf Uint8Array, trust [Uint8Array|string...], crls [Uint8Array...], name string)
//	  -> {json: string, pictures: [{signature, type, data, matches}...], sm3: string} | {error: string}
//
// esealMeaning(code) -> {zh, en} | null, the plain words for a reason's
// code, and esealWarm() -> null | error, which verifies a small embedded
// document once so that the reader's first verification is as quick as
// the next. esealVerify runs internal/webverify in the browser: the document never leaves
// the reader's device.
package main

import (
	"context"
	"runtime"
	"syscall/js"

	"github.com/ronganxian/eseal/internal/webverify"
)

func main() {
	js.Global().Set("esealVerify", js.FuncOf(verifyJS))
	js.Global().Set("esealMeaning", js.FuncOf(meaningJS))
	js.Global().Set("esealWarm", js.FuncOf(func(js.Value, []js.Value) any {
		_, err := webverify.Warm()
		// Collect the warm-up's garbage now, while the reader chooses a
		// file, rather than in the middle of their verification.
		runtime.GC()
		if err != nil {
			return err.Error()
		}
		return js.Null()
	}))
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("esealready"))
	select {}
}

func verifyJS(_ js.Value, args []js.Value) any {
	result := func(k, v string) any { return js.ValueOf(map[string]any{k: v}) }
	if len(args) < 4 {
		return result("error", "esealVerify(pdf, trust, crls, name): four arguments")
	}
	in := webverify.Input{Document: bytesOf(args[0]), Name: args[3].String()}
	for i := 0; i < args[1].Length(); i++ {
		in.Trust = append(in.Trust, bytesOf(args[1].Index(i)))
	}
	for i := 0; i < args[2].Length(); i++ {
		in.CRLs = append(in.CRLs, bytesOf(args[2].Index(i)))
	}
	res, err := webverify.Verify(context.Background(), in)
	if err != nil {
		return result("error", err.Error())
	}
	pics := make([]any, len(res.Pictures))
	for i, p := range res.Pictures {
		data := js.Global().Get("Uint8Array").New(len(p.Data))
		js.CopyBytesToJS(data, p.Data)
		pics[i] = map[string]any{"signature": p.Signature, "type": p.Type, "data": data, "matches": p.Matches}
	}
	return js.ValueOf(map[string]any{"json": string(res.JSON), "pictures": pics, "sm3": res.SM3})
}

// bytesOf copies a Uint8Array, or a string's UTF-8, into Go.
func bytesOf(v js.Value) []byte {
	if v.Type() == js.TypeString {
		return []byte(v.String())
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

func meaningJS(_ js.Value, args []js.Value) any {
	if len(args) < 1 {
		return js.Null()
	}
	zh, en, ok := webverify.Meaning(args[0].String())
	if !ok {
		return js.Null()
	}
	return js.ValueOf(map[string]any{"zh": zh, "en": en})
}
