package client_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite client.gen.go from the served document")

// TestGenerated generates the client from the document a real server
// serves, with the pinned oapi-codegen (go tool oapi-codegen) and
// oapi-codegen.yaml, and fails when it differs from client.gen.go: the
// committed client is always the API's. -update rewrites it.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oapi-codegen")
	}
	s := newServer(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(doc, s.document(t), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "client.gen.go")
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", "oapi-codegen.yaml", "-o", out, doc)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool oapi-codegen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("client.gen.go", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("client.gen.go is not what the served document generates (%d bytes, %d generated): "+
			"run go test ./client -run TestGenerated -update, and commit it\n%s", len(want), len(got), firstDiff(want, got))
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return "line " + itoa(i+1) + ":\n- " + string(la[i]) + "\n+ " + string(lb[i])
		}
	}
	return "one is a prefix of the other"
}
