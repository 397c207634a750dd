// bundlecheck verifies a Custos evidence bundle (docs/FORMATS-bundle.md) independently of
// Custos's code, with the reference Go implementations of C2SP signed notes
// (golang.org/x/mod/sumdb/note) and RFC 6962 proofs (golang.org/x/mod/sumdb/tlog) and the Go
// standard library: both checkpoints' signatures, their consistency, each entry's inclusion,
// the manifest against the documents and entries, and the export record against the manifest.
//
//	bundlecheck BUNDLE [VKEY]
//
// With VKEY (the verifier key held apart), the bundle's key must be that one. Prints "ok"
// (exit 0) or the first failure (exit 1). It does not check the file's canonical byte form,
// which `custos audit verify-bundle` does as well.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proven struct {
	Entry string   `json:"entry"`
	Index int64    `json:"index"`
	Proof []string `json:"proof"`
}

type bundle struct {
	Format      string `json:"format"`
	Incident    string `json:"incident"`
	Vkey        string `json:"vkey"`
	Checkpoints struct {
		Scope       string   `json:"scope"`
		Latest      string   `json:"latest"`
		Consistency []string `json:"consistency"`
	} `json:"checkpoints"`
	Entries   []proven          `json:"entries"`
	Documents map[string]string `json:"documents"`
	Manifest  string            `json:"manifest"`
	Export    proven            `json:"export"`
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 || strings.ToLower(s) != s {
			return nil, fmt.Errorf("not a lowercase hex SHA-256 hash: %q", s)
		}
		var h tlog.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, nil
}

func checkpoint(v note.Verifier, text string) (int64, tlog.Hash, error) {
	var root tlog.Hash
	n, err := note.Open([]byte(text), note.VerifierList(v))
	if err != nil {
		return 0, root, fmt.Errorf("signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return 0, root, fmt.Errorf("body: want origin, size and root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		return 0, root, fmt.Errorf("size %q", lines[1])
	}
	b, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(b) != 32 {
		return 0, root, fmt.Errorf("root %q", lines[2])
	}
	copy(root[:], b)
	return size, root, nil
}

func include(p proven, size int64, root tlog.Hash) (tlog.Hash, map[string]any, error) {
	leaf := tlog.RecordHash([]byte(p.Entry))
	proof, err := hashes(p.Proof)
	if err != nil {
		return leaf, nil, err
	}
	if err := tlog.CheckRecord(proof, size, root, p.Index, leaf); err != nil {
		return leaf, nil, fmt.Errorf("entry %d in the tree of size %d: %v", p.Index, size, err)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(p.Entry), &e); err != nil {
		return leaf, nil, fmt.Errorf("entry %d is not JSON", p.Index)
	}
	if i, ok := e["i"].(float64); !ok || int64(i) != p.Index {
		return leaf, nil, fmt.Errorf("entry %d names another index", p.Index)
	}
	return leaf, e, nil
}

func run(path, held string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b bundle
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return fmt.Errorf("not a bundle: %v", err)
	}
	if b.Format != "custos-evidence-bundle/1" {
		return fmt.Errorf("format %q", b.Format)
	}
	if held != "" && held != b.Vkey {
		return fmt.Errorf("the bundle's verifier key is not the one held apart")
	}
	v, err := note.NewVerifier(b.Vkey)
	if err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	ss, sr, err := checkpoint(v, b.Checkpoints.Scope)
	if err != nil {
		return fmt.Errorf("scope checkpoint: %v", err)
	}
	ls, lr, err := checkpoint(v, b.Checkpoints.Latest)
	if err != nil {
		return fmt.Errorf("latest checkpoint: %v", err)
	}
	cons, err := hashes(b.Checkpoints.Consistency)
	if err != nil {
		return err
	}
	if ss == 0 || ss > ls || (ss == ls && (sr != lr || len(cons) != 0)) {
		return fmt.Errorf("checkpoint sizes %d and %d", ss, ls)
	}
	if ss < ls {
		if err := tlog.CheckTree(cons, ls, lr, ss, sr); err != nil {
			return fmt.Errorf("consistency of %d with %d: %v", ss, ls, err)
		}
	}
	leaves := sha256.New()
	last := int64(-1)
	for _, p := range b.Entries {
		if p.Index <= last {
			return fmt.Errorf("entries out of order")
		}
		last = p.Index
		leaf, _, err := include(p, ss, sr)
		if err != nil {
			return err
		}
		leaves.Write(leaf[:])
	}
	names := make([]string, 0, len(b.Documents))
	for n := range b.Documents {
		names = append(names, n)
	}
	sort.Strings(names)
	var m strings.Builder
	fmt.Fprintf(&m, "custos-evidence-bundle/1 %s\n", b.Incident)
	for _, n := range names {
		fmt.Fprintf(&m, "%x  documents/%s\n", sha256.Sum256([]byte(b.Documents[n])), n)
	}
	fmt.Fprintf(&m, "%x  entries\n", leaves.Sum(nil))
	if m.String() != b.Manifest {
		return fmt.Errorf("the manifest does not match the documents and entries")
	}
	_, x, err := include(b.Export, ls, lr)
	if err != nil {
		return fmt.Errorf("export record: %v", err)
	}
	want := fmt.Sprintf("%x", sha256.Sum256([]byte(b.Manifest)))
	if x["action"] != "evidence.export" || x["query_hash"] != want {
		return fmt.Errorf("the export record does not carry this manifest's hash")
	}
	return nil
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Println("usage: bundlecheck BUNDLE [VKEY]")
		os.Exit(2)
	}
	held := ""
	if len(os.Args) == 3 {
		held = os.Args[2]
	}
	if err := run(os.Args[1], held); err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
