package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

// planChunkItems is how many plan items one plan_chunks row holds.
const planChunkItems = 4096

// planChunkVersion is the first byte of every encoded chunk.
const planChunkVersion = 1

// encodePlanChunk encodes items, in ascending sequence order, as one
// plan_chunks body:
//
//	version byte (1), uvarint item count, then per item:
//	uvarint sequence number (the first) or its step from the previous one,
//	five strings (kind, user, group, app, reason),
//	uvarint case id count, then each case id as a zigzag varint step from
//	the previous case id of the chunk (from 0 at the start).
//
// A string is a uvarint n: 0 introduces a new string (uvarint length,
// then its bytes), which then becomes string n for the rest of the chunk;
// n > 0 repeats string n. User, group and app ids and reasons recur across
// a plan's items, so a chunk holds each once.
func encodePlanChunk(buf []byte, items []campaign.PlanItem) []byte {
	buf = append(buf[:0], planChunkVersion)
	buf = binary.AppendUvarint(buf, uint64(len(items)))
	seen := make(map[string]uint64, len(items))
	str := func(s string) {
		if n, ok := seen[s]; ok {
			buf = binary.AppendUvarint(buf, n)
			return
		}
		seen[s] = uint64(len(seen) + 1)
		buf = binary.AppendUvarint(buf, 0)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	prevSeq, prevID := 0, int64(0)
	for i := range items {
		it := &items[i]
		buf = binary.AppendUvarint(buf, uint64(it.Seq-prevSeq))
		prevSeq = it.Seq
		str(it.Kind)
		str(it.UserID)
		str(it.GroupID)
		str(it.AppID)
		str(it.Reason)
		buf = binary.AppendUvarint(buf, uint64(len(it.CaseIDs)))
		for _, id := range it.CaseIDs {
			buf = binary.AppendVarint(buf, id-prevID)
			prevID = id
		}
	}
	return buf
}

// errPlanChunk is a plan_chunks body that does not decode.
var errPlanChunk = errors.New("malformed plan chunk")

// decodePlanChunk appends the items of one encoded chunk to out. It
// returns an error, and out as it was, when the body is malformed:
// truncated, of another version, with a string reference out of range,
// a sequence number that does not rise, or bytes left over.
func decodePlanChunk(out []campaign.PlanItem, body []byte) ([]campaign.PlanItem, error) {
	d := chunkReader{b: body}
	if len(body) == 0 || body[0] != planChunkVersion {
		return out, fmt.Errorf("%w: unknown version", errPlanChunk)
	}
	d.b = d.b[1:]
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // every item takes at least 7 bytes
		return out, fmt.Errorf("%w: %d items in %d bytes", errPlanChunk, n, len(body))
	}
	start := len(out)
	var table []string
	str := func() string {
		r := d.uvarint()
		switch {
		case d.err != nil:
			return ""
		case r == 0:
			l := d.uvarint()
			if d.err == nil && l > uint64(len(d.b)) {
				d.err = fmt.Errorf("%w: string of %d bytes past the end", errPlanChunk, l)
			}
			if d.err != nil {
				return ""
			}
			s := string(d.b[:l])
			d.b = d.b[l:]
			table = append(table, s)
			return s
		case r > uint64(len(table)):
			d.err = fmt.Errorf("%w: string %d of %d", errPlanChunk, r, len(table))
			return ""
		default:
			return table[r-1]
		}
	}
	seq, prevID := 0, int64(0)
	for i := uint64(0); i < n && d.err == nil; i++ {
		step := d.uvarint()
		if d.err == nil && (step == 0 && i > 0 || step > uint64(maxSeqStep)) {
			d.err = fmt.Errorf("%w: sequence number step %d", errPlanChunk, step)
		}
		seq += int(step)
		it := campaign.PlanItem{Seq: seq, Kind: str(), UserID: str(), GroupID: str(), AppID: str(), Reason: str()}
		k := d.uvarint()
		if d.err == nil && k > uint64(len(d.b)) {
			d.err = fmt.Errorf("%w: %d case ids past the end", errPlanChunk, k)
		}
		if d.err == nil && k > 0 {
			it.CaseIDs = make([]int64, k)
			for j := range it.CaseIDs {
				prevID += d.varint()
				it.CaseIDs[j] = prevID
			}
		}
		out = append(out, it)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%w: %d bytes left over", errPlanChunk, len(d.b))
	}
	if d.err != nil {
		return out[:start], d.err
	}
	return out, nil
}

// maxSeqStep bounds one sequence number step, so that a corrupt body
// cannot overflow the sequence numbers.
const maxSeqStep = 1 << 40

// chunkReader reads varints from a chunk body, keeping the first error.
type chunkReader struct {
	b   []byte
	err error
}

func (d *chunkReader) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *chunkReader) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint reads one number with read (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](d *chunkReader, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated number", errPlanChunk)
		return 0
	}
	d.b = d.b[n:]
	return v
}
