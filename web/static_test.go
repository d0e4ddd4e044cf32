package web_test

import (
	"io"
	"strings"
	"testing"
)

// TestStaticServesFilesOnly: /static/ serves its files, but lists no
// directory.
func TestStaticServesFilesOnly(t *testing.T) {
	w := newWorld(t)
	client := w.srv.Client() // follows the redirect of /static to /static/
	for path, want := range map[string]int{"/static/style.css": 200, "/static/": 404, "/static": 404} {
		resp, err := client.Get(w.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(string(body), `<a href="style.css">`) {
			t.Errorf("%s lists the directory", path)
		}
	}
}
