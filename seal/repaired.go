package seal

// A refusal's record carries its message in Detail. A sealing's record
// carried none until issue 14; now its Detail is empty, or a note on how
// the document was sealed. The one note so far is a repair: a damaged
// document without signatures is rewritten whole before it is sealed (see
// pdf.Result.Repaired), so its sealed PDF does not start with the bytes
// received, and the record says so for whoever audits it. Detail is
// hashed into the record like every field, so the note is as
// tamper-evident as the rest, and the hash format is unchanged.

// repairedPrefix starts the Detail of a sealing whose document was
// repaired first.
const repairedPrefix = "repaired: "

// repairedDetail is the Detail of a sealing after the repair note, empty
// when nothing was repaired.
func repairedDetail(note string) string {
	if note == "" {
		return ""
	}
	return clip(repairedPrefix+note, maxDetailLen)
}

// Repaired returns what was repaired before the record's document was
// sealed: empty when the document was sealed as it came, and for a
// refusal.
func (r *Record) Repaired() string {
	if r.Result != ResultSealed {
		return ""
	}
	note, _ := r.detailNote(repairedPrefix) // the last of the notes (see timestamp.go)
	return note
}
