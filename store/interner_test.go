package store

import (
	"database/sql"
	"testing"
	"unsafe"
)

// The interner hands back one shared copy of each string, of Okta's id
// length or any other, keeps nothing of the caller's buffer, and run
// follows runs of one value.
func TestInterner(t *testing.T) {
	in := newInterner()
	buf := sql.RawBytes("00u1a2b3c4d5e6f7g8h9") // 20 bytes: an Okta id
	first := in.get(buf)
	copy(buf, "00gXXXXXXXXXXXXXXXXX")
	if first != "00u1a2b3c4d5e6f7g8h9" {
		t.Fatalf("the interned id changed with the buffer: %q", first)
	}
	second := in.get(sql.RawBytes("00u1a2b3c4d5e6f7g8h9"))
	if second != first || unsafe.StringData(second) != unsafe.StringData(first) {
		t.Fatal("the same Okta id was not shared")
	}
	if other := in.get(buf); other != "00gXXXXXXXXXXXXXXXXX" {
		t.Fatalf("another id read %q", other)
	}
	short := in.get(sql.RawBytes("dev1"))
	if again := in.get(sql.RawBytes("dev1")); again != "dev1" || unsafe.StringData(again) != unsafe.StringData(short) {
		t.Fatal("a short id was not shared")
	}
	if in.get(nil) != "" || in.get(sql.RawBytes{}) != "" {
		t.Fatal("empty bytes are not the empty string")
	}
	a, b := in.fields(sql.RawBytes("00g1 00g2")), in.fields(sql.RawBytes("00g1 00g2"))
	if len(a) != 2 || a[0] != "00g1" || a[1] != "00g2" || &a[0] != &b[0] {
		t.Fatalf("fields = %q and %q, want one shared [00g1 00g2]", a, b)
	}
	if f := in.fields(sql.RawBytes("00g2")); len(f) != 1 || f[0] != "00g2" || in.fields(nil) != nil {
		t.Fatalf("fields of another list: %q", f)
	}
	for _, want := range []string{"a", "a", "b", "", "b", "a"} {
		if got := in.run(sql.RawBytes(want)); got != want {
			t.Fatalf("run(%q) = %q", want, got)
		}
	}
}
