package seal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Seal lifecycle records: a township seal's issue, suspension, resumption,
// rotation and revocation are keystore state changes; each one made
// through the API is also a ledger record (ResultLifecycle), so that it is
// chained, checkpointed and pushed to the platform and the supervising
// departments like a sealing. A department learns that a seal was
// suspended from the event, not from a refused sealing.

// LifecycleAction is the change to a seal.
type LifecycleAction string

const (
	ActionIssue   LifecycleAction = "issue"
	ActionSuspend LifecycleAction = "suspend"
	ActionResume  LifecycleAction = "resume"
	ActionRotate  LifecycleAction = "rotate"
	ActionRevoke  LifecycleAction = "revoke"
)

var lifecycleActions = []names{
	{string(ActionIssue), "启用", "issued"},
	{string(ActionSuspend), "暂停", "suspended"},
	{string(ActionResume), "恢复", "resumed"},
	{string(ActionRotate), "更换证书", "rotated"},
	{string(ActionRevoke), "注销", "revoked"},
}

// Known reports whether a is one of the actions above, by its code.
func (a LifecycleAction) Known() bool {
	for _, n := range lifecycleActions {
		if string(a) == n.code {
			return true
		}
	}
	return false
}

// Chinese returns the action's Chinese name (the code if it is unknown).
func (a LifecycleAction) Chinese() string { return nameOf(lifecycleActions, string(a), true) }

// English returns the action's English name, a past participle.
func (a LifecycleAction) English() string { return nameOf(lifecycleActions, string(a), false) }

// AllDomains is the Domain of a lifecycle record: a change to a township's
// seal concerns every department that supervises what the seal seals, so
// every domain filter matches it (RecordFilter.Matches, and the stores'
// queries).
const AllDomains = "*"

// ErrBadLifecycle: a lifecycle note is not in its canonical form.
var ErrBadLifecycle = errors.New("bad seal lifecycle note")

// LifecycleNote is a change as the record's Detail carries it.
type LifecycleNote struct {
	Action LifecycleAction
	// OldSerial is the certificate serial (hex) the seal had before the
	// change; empty for an issue. NewSerial is the one it has after;
	// empty for a revocation. Suspension and resumption keep the serial:
	// both are it.
	OldSerial, NewSerial string
	Reason               string // why, as the county office gave it; may be empty
}

const lifecyclePrefix = "印章变更"

// serialField matches what a serial field holds: hex, or "-" for none.
var serialField = regexp.MustCompile(`^(-|[0-9a-f]{1,64})$`)

// String is the note as the record's Detail carries it, parsed back by
// ParseLifecycleNote:
//
//	印章变更 action=rotate old=1a2b new=3c4d reason="证书到期前更换"
func (n LifecycleNote) String() string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return fmt.Sprintf("%s action=%s old=%s new=%s reason=%s", lifecyclePrefix, n.Action, dash(n.OldSerial),
		dash(n.NewSerial), strconv.Quote(n.Reason))
}

// ParseLifecycleNote reads a lifecycle record's Detail; it fails with
// ErrBadLifecycle when the Detail is not a LifecycleNote in its canonical
// form with a known action.
func ParseLifecycleNote(detail string) (LifecycleNote, error) {
	var n LifecycleNote
	rest, ok := strings.CutPrefix(detail, lifecyclePrefix+" ")
	if !ok {
		return n, fmt.Errorf("%w: the detail does not start with %q", ErrBadLifecycle, lifecyclePrefix)
	}
	f := map[string]string{}
	for _, m := range timelinessFields.FindAllStringSubmatch(rest, -1) {
		f[m[1]] = m[2]
	}
	n.Action = LifecycleAction(f["action"])
	if !n.Action.Known() {
		return n, fmt.Errorf("%w: action %q", ErrBadLifecycle, f["action"])
	}
	for _, s := range []struct {
		v   string
		out *string
	}{{f["old"], &n.OldSerial}, {f["new"], &n.NewSerial}} {
		if !serialField.MatchString(s.v) {
			return n, fmt.Errorf("%w: serial %q is not hex", ErrBadLifecycle, s.v)
		}
		if s.v != "-" {
			*s.out = s.v
		}
	}
	q, ok := f["reason"]
	if !ok {
		return n, fmt.Errorf("%w: no reason field", ErrBadLifecycle)
	}
	var err error
	if n.Reason, err = strconv.Unquote(q); err != nil {
		return n, fmt.Errorf("%w: the reason is not quoted", ErrBadLifecycle)
	}
	if n.String() != detail {
		return n, fmt.Errorf("%w: the detail is not in the canonical form", ErrBadLifecycle)
	}
	return n, nil
}

// LifecycleChange is one change to record.
type LifecycleChange struct {
	Township   string
	SealID     string // the seal after the change (the new one, for a rotation)
	CertSerial string // hex: its certificate's serial
	Note       LifecycleNote
}

// Attempts and pause of RecordLifecycle's retries: the change stands in
// the keystore whatever happens here, so a passing fault of the database
// (a replica's failover, a lock timeout) must not leave it unrecorded;
// three tries over about a second cover those, and a longer outage is
// returned to the caller, who is told that the change stands unrecorded.
const (
	lifecycleAttempts = 3
	lifecyclePause    = 300 * time.Millisecond
)

// ErrLifecycleUnrecorded: a seal's change stands in the keystore, but its
// ledger record could not be stored.
var ErrLifecycleUnrecorded = errors.New("the seal's change stands, but its ledger record could not be stored")

// RecordLifecycle appends the lifecycle record of a change that who (the
// county office) made, trying again on failure (lifecycleAttempts). The
// change was made before: a record is never written for a change that did
// not happen. When every attempt fails it returns ErrLifecycleUnrecorded
// wrapping the last failure.
func (l *Ledger) RecordLifecycle(ctx context.Context, who *Principal, c LifecycleChange) (*Record, error) {
	if who == nil || who.Role != RoleAdmin {
		return nil, fmt.Errorf("%w: only the county office changes seals", ErrPermission)
	}
	if !c.Note.Action.Known() {
		return nil, fmt.Errorf("%w: action %q", ErrBadLifecycle, c.Note.Action)
	}
	c.Note.Reason = recordable(c.Note.Reason, maxReasonLen)
	rec := &Record{Township: c.Township, SealID: c.SealID, CertSerial: c.CertSerial, Domain: AllDomains,
		Principal: who.ID, Result: ResultLifecycle, Detail: c.Note.String()}
	var err error
	for i := range lifecycleAttempts {
		if i > 0 {
			t := time.NewTimer(lifecyclePause << (i - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w: %s of seal %s: %w", ErrLifecycleUnrecorded, c.Note.Action, c.SealID, ctx.Err())
			case <-t.C:
			}
		}
		r := *rec
		r.Time = l.now()
		var out *Record
		if out, err = l.Append(ctx, &r, nil); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: %s of seal %s: %w", ErrLifecycleUnrecorded, c.Note.Action, c.SealID, err)
}
