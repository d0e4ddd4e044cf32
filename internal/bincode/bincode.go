// Package bincode is the compact binary form that Baton stores scoring
// states in (policy.Engagement's, and the store's around it): strings as a
// uvarint length and their bytes, times as varint seconds since the Unix
// epoch and uvarint nanoseconds (read back in UTC), floats as their IEEE 754
// bits in little endian, counts as uvarints. One writer and one reader of
// it, so that its bounds are checked in one place.
package bincode

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// AppendString appends s.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t.
func AppendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// AppendFloat appends f.
func AppendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// ErrTruncated is a Reader's error when the bytes end before what it reads.
var ErrTruncated = errors.New("truncated")

// Reader reads the binary form from B, which it advances. After its first
// error it reads zeros and keeps that error in Err.
type Reader struct {
	B   []byte
	Err error
	// Names are strings to return rather than copy, when one matches.
	Names []string
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = ErrTruncated
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed varint (zig-zag, as binary.AppendVarint writes it).
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// Count reads a number of items that follow, each at least a byte long: a
// count larger than the bytes left is an error, not an allocation.
func (r *Reader) Count() int {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		if r.Err == nil {
			r.Err = ErrTruncated
		}
		return 0
	}
	return int(n)
}

// String reads a string: one of Names if it matches, else a copy.
func (r *Reader) String() string {
	n := r.Count()
	if r.Err != nil {
		return ""
	}
	b := r.B[:n]
	r.B = r.B[n:]
	for _, s := range r.Names {
		if s == string(b) { // compared without a copy
			return s
		}
	}
	return string(b)
}

// Float reads a float.
func (r *Reader) Float() float64 {
	if r.Err != nil {
		return 0
	}
	if len(r.B) < 8 {
		r.Err = ErrTruncated
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.B))
	r.B = r.B[8:]
	return v
}

// Time reads a time, in UTC.
func (r *Reader) Time() time.Time {
	sec, nsec := r.Varint(), r.Uvarint()
	if r.Err == nil && nsec >= 1e9 {
		r.Err = errors.New("nanoseconds out of range")
	}
	if r.Err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
