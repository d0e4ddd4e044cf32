package policy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/batonhq/baton/internal/bincode"
)

// The binary form of an engagement state, which stores keep with every lead
// and rewrite after each of its events: reading and writing it back costs
// under half of what JSON did, in a third of the room (BenchmarkScoreState
// in store). In order, in package bincode's form: the key, the as-of time,
// the rules by name (name, sum, events, last, cap windows), the fast-track
// hits (event, time, event id). The key comes first, so that a reader can
// tell from the first bytes which policy built a state (ReadEngagement).

// AppendBinary appends the state's binary form to b
// (encoding.BinaryAppender).
func (e *Engagement) AppendBinary(b []byte) ([]byte, error) {
	b = bincode.AppendString(b, e.Key)
	b = bincode.AppendTime(b, e.AsOf)
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
		b = bincode.AppendString(b, name)
		b = bincode.AppendFloat(b, rs.Sum)
		b = binary.AppendVarint(b, int64(rs.Events))
		b = bincode.AppendTime(b, rs.Last)
		b = binary.AppendUvarint(b, uint64(len(rs.Windows)))
		for _, w := range rs.Windows {
			b = bincode.AppendTime(b, w.Start)
			b = bincode.AppendFloat(b, w.Points)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.FastTrack)))
	for _, h := range e.FastTrack {
		b = bincode.AppendString(b, h.Event)
		b = bincode.AppendTime(b, h.At)
		b = bincode.AppendString(b, h.EventID)
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

// decodeEngagement reads the binary form; with a policy, the strings it
// names are its own rather than copies.
func decodeEngagement(data []byte, p *Policy) (*Engagement, error) {
	d := bincode.Reader{B: data}
	if p != nil {
		d.Names = p.stateNames
	}
	e := &Engagement{Key: d.String(), AsOf: d.Time()}
	if n := d.Count(); n > 0 {
		e.Rules = make(map[string]*RuleState, n)
		states := make([]RuleState, n) // one allocation for all
		for i := range states {
			name := d.String()
			rs := &states[i]
			*rs = RuleState{Sum: d.Float(), Events: int(d.Varint()), Last: d.Time()}
			if w := d.Count(); w > 0 {
				rs.Windows = make([]CapWindow, w)
				for i := range rs.Windows {
					rs.Windows[i] = CapWindow{Start: d.Time(), Points: d.Float()}
				}
			}
			e.Rules[name] = rs
		}
	}
	if n := d.Count(); n > 0 {
		e.FastTrack = make([]FastTrackHit, n)
		for i := range e.FastTrack {
			e.FastTrack[i] = FastTrackHit{Event: d.String(), At: d.Time(), EventID: d.String()}
		}
	}
	if d.Err == nil && len(d.B) > 0 {
		d.Err = errors.New("bytes after the end")
	}
	if d.Err != nil {
		return nil, errors.New("engagement state: " + d.Err.Error())
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
