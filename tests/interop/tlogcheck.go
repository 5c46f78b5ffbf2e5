// Command tlogcheck checks Bevoegd's transparency log formats with an independent implementation,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (tiles of height 8 are C2SP tiles).
//
//	tlogcheck verify DIR VKEY_FILE CHECKPOINT_FILE...
//	    opens each signed checkpoint (smallest first) with the verifier key; proves from the tiles
//	    in DIR that every entry of DIR's entry bundles is in each tree, and that each tree is a
//	    prefix of the last; if DIR holds proofs.json, checks that its proofs for the last tree
//	    are those tlog makes
//	tlogcheck sign SKEY_FILE      signs the note text on standard input
//	tlogcheck keygen NAME         prints a new signer key and its verifier key, one a line
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: tlogcheck verify DIR VKEY_FILE CHECKPOINT_FILE... | sign SKEY_FILE | keygen NAME")
	}
	switch os.Args[1] {
	case "verify":
		verify(os.Args[2], readKey(os.Args[3]), os.Args[4:])
	case "sign":
		signer, err := note.NewSigner(readKey(os.Args[2]))
		check(err)
		text, err := io.ReadAll(os.Stdin)
		check(err)
		msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
		check(err)
		os.Stdout.Write(msg)
	case "keygen":
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		check(err)
		fmt.Printf("%s\n%s\n", skey, vkey)
	default:
		fail("unknown command " + os.Args[1])
	}
}

// tiles reads C2SP tiles from a directory: tlog's tile/8/L/N path without the height.
type tiles struct{ dir string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(want []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(want))
	for i, tile := range want {
		var err error
		data[i], err = os.ReadFile(filepath.Join(t.dir, strings.Replace(tile.Path(), "tile/8/", "tile/", 1)))
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func verify(dir, vkey string, checkpoints []string) {
	verifier, err := note.NewVerifier(vkey)
	check(err)
	var trees []tlog.Tree
	for _, file := range checkpoints {
		msg, err := os.ReadFile(file)
		check(err)
		n, err := note.Open(msg, note.VerifierList(verifier))
		check(err)
		lines := strings.Split(n.Text, "\n")
		if len(lines) < 4 || lines[0] != verifier.Name() {
			fail(fmt.Sprintf("%s: not a checkpoint of %s", file, verifier.Name()))
		}
		size, err := strconv.ParseInt(lines[1], 10, 64)
		check(err)
		hash, err := tlog.ParseHash(lines[2])
		check(err)
		trees = append(trees, tlog.Tree{N: size, Hash: hash})
	}
	last := trees[len(trees)-1]
	entries := readEntries(dir, last.N)
	for _, tree := range trees {
		reader := tlog.TileHashReader(tree, tiles{dir})
		for i := int64(0); i < tree.N; i++ {
			proof, err := tlog.ProveRecord(tree.N, i, reader)
			check(err)
			check(tlog.CheckRecord(proof, tree.N, tree.Hash, i, tlog.RecordHash(entries[i])))
		}
		lastReader := tlog.TileHashReader(last, tiles{dir})
		hash, err := tlog.TreeHash(tree.N, lastReader)
		check(err)
		if hash != tree.Hash {
			fail(fmt.Sprintf("the tiles of %d leaves give another head for %d", last.N, tree.N))
		}
		proof, err := tlog.ProveTree(last.N, tree.N, lastReader)
		check(err)
		check(tlog.CheckTree(proof, last.N, last.Hash, tree.N, tree.Hash))
	}
	checked := compareProofs(filepath.Join(dir, "proofs.json"), last, tlog.TileHashReader(last, tiles{dir}))
	fmt.Printf("%d checkpoints, %d entries, %d proofs of ours checked\n", len(trees), len(entries), checked)
}

// readEntries reads the entries of a tree of the given size from its entry bundles.
func readEntries(dir string, size int64) [][]byte {
	var entries [][]byte
	for n := int64(0); n*256 < size; n++ {
		bundle := tlog.Tile{H: 8, L: 0, N: n, W: 256}
		if size-n*256 < 256 {
			bundle.W = int(size - n*256)
		}
		path := strings.Replace(bundle.Path(), "tile/8/0/", "tile/entries/", 1)
		data, err := os.ReadFile(filepath.Join(dir, path))
		check(err)
		for len(data) > 0 {
			length := int(binary.BigEndian.Uint16(data))
			entries = append(entries, data[2:2+length])
			data = data[2+length:]
		}
	}
	if int64(len(entries)) != size {
		fail(fmt.Sprintf("%d entries in the bundles of a tree of %d", len(entries), size))
	}
	return entries
}

type ourProofs struct {
	Inclusion   map[string][]tlog.Hash `json:"inclusion"`
	Consistency map[string][]tlog.Hash `json:"consistency"`
}

// compareProofs checks that the proofs in the file, for the tree last, are those tlog makes.
func compareProofs(file string, last tlog.Tree, reader tlog.HashReader) int {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return 0
	}
	check(err)
	var ours ourProofs
	check(json.Unmarshal(data, &ours))
	for index, proof := range ours.Inclusion {
		i, err := strconv.ParseInt(index, 10, 64)
		check(err)
		want, err := tlog.ProveRecord(last.N, i, reader)
		check(err)
		same(fmt.Sprintf("inclusion proof of %d in %d", i, last.N), proof, want)
	}
	for size, proof := range ours.Consistency {
		n, err := strconv.ParseInt(size, 10, 64)
		check(err)
		want, err := tlog.ProveTree(last.N, n, reader)
		check(err)
		same(fmt.Sprintf("consistency proof of %d in %d", n, last.N), proof, want)
	}
	return len(ours.Inclusion) + len(ours.Consistency)
}

func same(what string, ours, theirs []tlog.Hash) {
	if len(ours) != len(theirs) {
		fail(what + " differs from tlog's")
	}
	for i := range ours {
		if ours[i] != theirs[i] {
			fail(what + " differs from tlog's")
		}
	}
}

func readKey(file string) string {
	data, err := os.ReadFile(file)
	check(err)
	return strings.TrimSpace(string(data))
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "tlogcheck:", message)
	os.Exit(1)
}
