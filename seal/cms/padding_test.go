package cms

import (
	"bytes"
	"errors"
	"testing"
)

func TestTrimPadding(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x00}
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"exact", der, der, nil},
		{"zero padded", append(append([]byte{}, der...), 0, 0, 0), der, nil},
		{"ends in a zero byte of its own", der, der, nil},
		{"garbage after", append(append([]byte{}, der...), 0, 1), nil, ErrTrailingData},
		{"all zeros", make([]byte, 8), nil, ErrMalformed},
		{"truncated", der[:4], nil, ErrMalformed},
		{"empty", nil, nil, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TrimPadding(tc.in)
			if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %x, %v; want %x, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
