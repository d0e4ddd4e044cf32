package policy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"
)

// The binary form of an engagement state, which stores keep with every lead
// and rewrite after each of its events: reading and writing it back costs
// under half of what JSON did, in a third of the room (BenchmarkScoreState
// in store). In order:
// the key, the as-of time, the rules by name (name, sum, events, last, cap
// windows), the fast-track hits (event, time, event id). Strings are a
// uvarint length and the bytes; times are varint seconds since the Unix
// epoch and uvarint nanoseconds, in UTC; floats their IEEE 754 bits, little
// endian; counts uvarints. The key comes first, so that a reader can tell
// from the first bytes which policy built a state (KeyPrefix).

// AppendBinary appends the state's binary form to b
// (encoding.BinaryAppender).
func (e *Engagement) AppendBinary(b []byte) ([]byte, error) {
	b = appendString(b, e.Key)
	b = appendTime(b, e.AsOf)
	names := make([]string, 0, len(e.Rules))
	for name := range e.Rules {
		names = append(names, name)
	}
	slices.Sort(names) // the same state, the same bytes
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		rs := e.Rules[name]
		if rs == nil {
			rs = &RuleState{}
		}
		b = appendString(b, name)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(rs.Sum))
		b = binary.AppendVarint(b, int64(rs.Events))
		b = appendTime(b, rs.Last)
		b = binary.AppendUvarint(b, uint64(len(rs.Windows)))
		for _, w := range rs.Windows {
			b = appendTime(b, w.Start)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w.Points))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.FastTrack)))
	for _, h := range e.FastTrack {
		b = appendString(b, h.Event)
		b = appendTime(b, h.At)
		b = appendString(b, h.EventID)
	}
	return b, nil
}

// MarshalBinary returns the state's binary form (encoding.BinaryMarshaler).
func (e *Engagement) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(nil)
}

// UnmarshalBinary reads a state from its binary form, all of it
// (encoding.BinaryUnmarshaler). An empty map of rules reads as none.
func (e *Engagement) UnmarshalBinary(data []byte) error {
	got, err := decodeEngagement(data, nil)
	if err != nil {
		*e = Engagement{}
		return err
	}
	*e = *got
	return nil
}

// ReadEngagement reads a state from its binary form if this policy built
// it, and returns nil if another did (its key is not this policy's): such a
// state is to be replayed, not read. The state shares the policy's strings
// (key, rule and event names) rather than copy them.
func (p *Policy) ReadEngagement(data []byte) (*Engagement, error) {
	if !bytes.HasPrefix(data, p.keyPrefix) {
		return nil, nil
	}
	return decodeEngagement(data, p)
}

// KeyPrefix is how the binary form of every state this policy builds
// begins: a state that begins otherwise was built by another policy.
func (p *Policy) KeyPrefix() []byte {
	return bytes.Clone(p.keyPrefix)
}

// decodeEngagement reads the binary form; with a policy, the strings it
// names are its own rather than copies.
func decodeEngagement(data []byte, p *Policy) (*Engagement, error) {
	d := stateReader{b: data}
	if p != nil {
		d.names = p.stateNames
	}
	e := &Engagement{Key: d.string(), AsOf: d.time()}
	if n := d.count(); n > 0 {
		e.Rules = make(map[string]*RuleState, n)
		states := make([]RuleState, n) // one allocation for all
		for i := range states {
			name := d.string()
			rs := &states[i]
			*rs = RuleState{Sum: d.float(), Events: int(d.varint()), Last: d.time()}
			if w := d.count(); w > 0 {
				rs.Windows = make([]CapWindow, w)
				for i := range rs.Windows {
					rs.Windows[i] = CapWindow{Start: d.time(), Points: d.float()}
				}
			}
			e.Rules[name] = rs
		}
	}
	if n := d.count(); n > 0 {
		e.FastTrack = make([]FastTrackHit, n)
		for i := range e.FastTrack {
			e.FastTrack[i] = FastTrackHit{Event: d.string(), At: d.time(), EventID: d.string()}
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("bytes after the end")
	}
	if d.err != nil {
		return nil, errors.New("engagement state: " + d.err.Error())
	}
	return e, nil
}

// stateStrings returns the strings a state of this policy holds besides
// event ids: its key, its engagement rules' names and their event types.
func (p *Policy) stateStrings() []string {
	names := []string{p.engagementKey}
	for _, r := range p.EngagementRules {
		names = append(names, r.Name, r.Event)
	}
	for _, f := range p.MQL.FastTrack {
		names = append(names, f.Event)
	}
	return names
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// stateReader reads the binary form; after the first error it reads zeros and
// keeps that error.
type stateReader struct {
	b     []byte
	err   error
	names []string // strings to return rather than copy, when they match
}

var errTruncated = errors.New("truncated")

func (d *stateReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateReader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items that follow, each at least a byte long: a
// count larger than the bytes left is an error, not an allocation.
func (d *stateReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		if d.err == nil {
			d.err = errTruncated
		}
		return 0
	}
	return int(n)
}

func (d *stateReader) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	b := d.b[:n]
	d.b = d.b[n:]
	for _, s := range d.names {
		if s == string(b) { // compared without a copy
			return s
		}
	}
	return string(b)
}

func (d *stateReader) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.err = errTruncated
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *stateReader) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if d.err == nil && nsec >= 1e9 {
		d.err = errors.New("nanoseconds out of range")
	}
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
