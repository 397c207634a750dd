// notecheck verifies what a Custos server hands an auditor with the reference
// Go implementations of C2SP signed notes (golang.org/x/mod/sumdb/note) and of
// RFC 6962 tree proofs (golang.org/x/mod/sumdb/tlog), written by others than
// Custos's authors: a signed checkpoint, an entry's inclusion in it, and the
// consistency of an older tree with it.
//
// It reads one JSON object on standard input:
//
//	{"vkey": "<name>+<hash>+<key>", "checkpoint": "<signed note>",
//	 "inclusion": {"index": I, "size": N, "leaf_hash": b64, "proof": [b64...], "entry": b64},
//	 "consistency": {"from": M, "to": N, "root_from": b64, "proof": [b64...]}}
//
// and prints "ok" (exit 0) when every part holds, else the first failure (exit 1).
// Built offline from Debian's golang-golang-x-mod-dev (see the Makefile).
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Vkey       string `json:"vkey"`
	Checkpoint string `json:"checkpoint"`
	Inclusion  *struct {
		Index    int64    `json:"index"`
		Size     int64    `json:"size"`
		LeafHash string   `json:"leaf_hash"`
		Proof    []string `json:"proof"`
		Entry    string   `json:"entry"`
	} `json:"inclusion"`
	Consistency *struct {
		From     int64    `json:"from"`
		To       int64    `json:"to"`
		RootFrom string   `json:"root_from"`
		Proof    []string `json:"proof"`
	} `json:"consistency"`
}

func hash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("not a base64 SHA-256 hash: %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		h, err := hash(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func run() error {
	var in input
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("input: %v", err)
	}
	v, err := note.NewVerifier(in.Vkey)
	if err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Checkpoint), note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("checkpoint signature: %v", err)
	}
	// C2SP tlog-checkpoint body: origin, size, base64 root, then optional extension lines.
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] == "" {
		return fmt.Errorf("checkpoint body: want origin, size and root lines")
	}
	if lines[0] != v.Name() {
		return fmt.Errorf("checkpoint origin %q is not the key's name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return fmt.Errorf("checkpoint size %q", lines[1])
	}
	root, err := hash(lines[2])
	if err != nil {
		return fmt.Errorf("checkpoint root: %v", err)
	}
	if p := in.Inclusion; p != nil {
		if p.Size != size {
			return fmt.Errorf("inclusion proof for size %d, checkpoint has %d", p.Size, size)
		}
		leaf, err := hash(p.LeafHash)
		if err != nil {
			return err
		}
		entry, err := base64.StdEncoding.DecodeString(p.Entry)
		if err != nil {
			return fmt.Errorf("entry: %v", err)
		}
		if tlog.RecordHash(entry) != leaf {
			return fmt.Errorf("the entry's bytes do not hash to its leaf hash")
		}
		proof, err := hashes(p.Proof)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(proof, size, root, p.Index, leaf); err != nil {
			return fmt.Errorf("inclusion of %d in %d: %v", p.Index, size, err)
		}
	}
	if c := in.Consistency; c != nil {
		if c.To != size {
			return fmt.Errorf("consistency proof to size %d, checkpoint has %d", c.To, size)
		}
		old, err := hash(c.RootFrom)
		if err != nil {
			return err
		}
		proof, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(proof, size, root, c.From, old); err != nil {
			return fmt.Errorf("consistency of %d with %d: %v", c.From, size, err)
		}
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
