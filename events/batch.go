package events

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// BatchContentType is the HTTP Content-Type of a batched-mode request: a
// JSON array of events in the CloudEvents JSON format (CloudEvents HTTP
// binding, 3.3). A subscription uses it when its batch size is over one.
const BatchContentType = "application/cloudevents-batch+json; charset=utf-8"

// batchMedia is BatchContentType without its parameters.
const batchMedia = "application/cloudevents-batch+json"

// AppendBatch appends an event already marshalled (Marshal) to a batch
// body being built in b, which starts empty: a sender that keeps a body
// under a size bound marshals each event once.
func AppendBatch(b, event []byte) []byte {
	if len(b) == 0 {
		b = append(b, '[')
	} else {
		b[len(b)-1] = ','
	}
	b = append(b, event...)
	return append(b, ']')
}

// ParseBatch reads a batched-mode body: every event, in order, with each
// one's JSON as sent. A batch may be empty. One malformed event makes the
// whole batch malformed.
func ParseBatch(b []byte) ([]*Event, []json.RawMessage, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, nil, fmt.Errorf("%w: a batch is a JSON array of events: %v", ErrMalformed, err)
	}
	evs := make([]*Event, len(raws))
	for i, raw := range raws {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, nil, fmt.Errorf("%w: event %d of the batch is null", ErrMalformed, i)
		}
		e, err := Parse(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d of the batch: %w", i, err)
		}
		evs[i] = e
	}
	return evs, raws, nil
}
