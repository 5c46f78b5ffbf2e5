// The proof check of the explorer, run in the visitor's browser: nothing the server computes is
// trusted. It reads the log's public files (the signed checkpoint, hash tiles and entry bundles
// of C2SP tlog-tiles), checks the checkpoint's Ed25519 signature with WebCrypto against the key
// the visitor sees (and may replace), and recomputes RFC 9162 tree hashes with SHA-256: the
// inclusion of a decision's events, or the consistency of the current tree with a checkpoint
// kept from earlier. The formats are those of docs/verification.md.
"use strict";

(() => {
  const LOG = "/log"; // where the server serves the log's files (C2SP tlog-tiles)
  const TILE_HEIGHT = 8;
  const TILE_WIDTH = 1 << TILE_HEIGHT;
  const HASH_SIZE = 32;
  const LEAF_SIZE = 65;
  const LEAF_FORMAT = 0x01;
  const ED25519 = 0x01;
  const SIGNATURE_PREFIX = "— ";
  const encoder = new TextEncoder();

  /** A proof that fails: the log does not hold what it should. The message says why, in Dutch. */
  class Invalid extends Error {}

  /** A check that could not be done (a file missing, no network): nothing is proven either way. */
  class Unchecked extends Error {}

  /** The browser's WebCrypto has no Ed25519. */
  class NoEd25519 extends Error {}

  // Bytes ---------------------------------------------------------------------------------------

  function concat(...parts) {
    const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  }

  function equal(a, b) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }

  function fromBase64(text) {
    try {
      return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
    } catch {
      return null;
    }
  }

  function toBase64(bytes) {
    return btoa(String.fromCharCode(...bytes));
  }

  function toHex(bytes) {
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  async function sha256(...parts) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
  }

  const leafHash = (data) => sha256(Uint8Array.of(0x00), data);
  const nodeHash = (left, right) => sha256(Uint8Array.of(0x01), left, right);

  // The log's files ----------------------------------------------------------------------------

  async function fetched(url, what) {
    let response;
    try {
      response = await fetch(url); // the checkpoint is served no-cache, tiles never change
    } catch {
      throw new Unchecked(`${what} kon niet worden opgehaald (${url}): is er verbinding?`);
    }
    if (!response.ok) {
      throw new Unchecked(`${what} is niet beschikbaar (${url}: ${response.status}).`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /** A tile's index in groups of three digits, all but the last with an x (C2SP tlog-tiles). */
  function indexPath(index) {
    let digits = String(index);
    digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
    const groups = digits.match(/.../g);
    return groups.map((group, i) => (i < groups.length - 1 ? `x${group}` : group)).join("/");
  }

  function tilePath(level, index, width) {
    return `tile/${level}/${indexPath(index)}${width < TILE_WIDTH ? `.p/${width}` : ""}`;
  }

  /** The hash tiles and entry bundles of the tree of one size, read as a proof needs them. */
  class Tiles {
    constructor(size) {
      this.size = size;
      this.read = new Map();
    }

    /** How many hashes tile `index` of `level` holds in this tree. */
    width(level, index) {
      const hashes = Math.floor(this.size / TILE_WIDTH ** level);
      return Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH);
    }

    async tile(level, index) {
      const width = this.width(level, index);
      const path = tilePath(level, index, width);
      if (!this.read.has(path)) {
        this.read.set(path, fetched(`${LOG}/${path}`, `Tegel ${path}`).then((bytes) => {
          if (bytes.length !== width * HASH_SIZE) {
            throw new Invalid(`tegel ${path} heeft ${bytes.length} bytes, niet ` +
                              `${width * HASH_SIZE}.`);
          }
          return bytes;
        }));
      }
      return this.read.get(path);
    }

    /** The hash of the complete subtree of 2**level leaves starting at leaf index * 2**level. */
    async subtreeHash(level, index) {
      const tileLevel = Math.floor(level / TILE_HEIGHT);
      const count = 2 ** (level % TILE_HEIGHT);
      const first = index * count;
      const tile = await this.tile(tileLevel, Math.floor(first / TILE_WIDTH));
      const at = (first % TILE_WIDTH) * HASH_SIZE;
      const hashes = [];
      for (let i = 0; i < count; i++) {
        hashes.push(tile.slice(at + i * HASH_SIZE, at + (i + 1) * HASH_SIZE));
      }
      return rootOf(hashes);
    }

    /** The tree hash of leaves start..end-1: its complete subtrees folded from the right. */
    async rangeHash([start, end]) {
      const hashes = await Promise.all(subtrees(start, end).map(([l, i]) => this.subtreeHash(l, i)));
      let root = hashes.pop();
      while (hashes.length) {
        root = await nodeHash(hashes.pop(), root);
      }
      return root;
    }

    /** The data of leaf `index`, from the entry bundle that holds it. */
    async leaf(index) {
      const bundle = Math.floor(index / TILE_WIDTH);
      // a bundle's path is its level-0 tile's with "entries" for the level
      const path = tilePath(0, bundle, this.width(0, bundle)).replace(/^tile\/0\//, "tile/entries/");
      const bytes = await fetched(`${LOG}/${path}`, `Bundel ${path}`);
      let at = 0;
      for (let i = 0; ; i++) {
        if (at + 2 > bytes.length) {
          throw new Invalid(`bundel ${path} houdt op voor blad ${index}.`);
        }
        const length = (bytes[at] << 8) | bytes[at + 1];
        if (at + 2 + length > bytes.length) {
          throw new Invalid(`bundel ${path} houdt op midden in blad ${bundle * TILE_WIDTH + i}.`);
        }
        if (i === index % TILE_WIDTH) {
          return bytes.slice(at + 2, at + 2 + length);
        }
        at += 2 + length;
      }
    }
  }

  // The tree (RFC 9162 section 2.1) -------------------------------------------------------------

  async function rootOf(hashes) {
    let level = hashes;
    while (level.length > 1) {
      const paired = [];
      for (let i = 0; i + 1 < level.length; i += 2) {
        paired.push(nodeHash(level[i], level[i + 1]));
      }
      if (level.length % 2) {
        paired.push(level[level.length - 1]);
      }
      level = await Promise.all(paired);
    }
    return level[0];
  }

  /** The complete subtrees [level, index], largest first, whose hashes fold into a range's. */
  function subtrees(start, end) {
    const found = [];
    while (start < end) {
      let level = 0;
      while (2 ** (level + 1) <= end - start) {
        level++;
      }
      found.push([level, start / 2 ** level]);
      start += 2 ** level;
    }
    return found;
  }

  /** k of RFC 9162: the largest power of two smaller than size (size > 1). */
  function split(size) {
    let k = 1;
    while (k * 2 < size) {
      k *= 2;
    }
    return k;
  }

  /** The leaf ranges whose hashes are the inclusion proof of leaf index, leaf side first. */
  function inclusionPath(index, size) {
    const path = [];
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const middle = start + split(end - start);
      if (index < middle) {
        path.push([middle, end]);
        end = middle;
      } else {
        path.push([start, middle]);
        start = middle;
      }
    }
    return path.reverse();
  }

  /** The leaf ranges whose hashes are the consistency proof from oldSize to newSize. */
  function consistencyPath(oldSize, newSize) {
    const path = [];
    let start = 0;
    let end = newSize;
    let whole = true;
    while (oldSize < end) {
      const middle = start + split(end - start);
      if (oldSize <= middle) {
        path.push([middle, end]);
        end = middle;
      } else {
        path.push([start, middle]);
        start = middle;
        whole = false;
      }
    }
    if (!whole) {
      path.push([start, end]);
    }
    return path.reverse();
  }

  /** The root an inclusion proof leads to from a leaf hash (RFC 9162 section 2.1.3.2). */
  async function inclusionRoot(leaf, index, size, proof) {
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return r;
  }

  /** The old and new roots a consistency proof leads to (RFC 9162 section 2.1.4.2). */
  async function consistencyRoots(oldSize, newSize, oldRoot, proof) {
    const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : proof;
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    let fr = path[0];
    let sr = path[0];
    for (const c of path.slice(1)) {
      if (fn % 2 === 1 || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return [fr, sr];
  }

  // Keys and signed checkpoints (C2SP signed-note, tlog-checkpoint) -----------------------------

  /** The verifier key of a key text `<name>+<key ID in hex>+<base64(0x01 || public key)>`. */
  async function verifierKey(text) {
    // the name holds no plus, the base64 may
    const [, name, id, data] = text.trim().match(/^([^+\s]+)\+([0-9a-fA-F]{8})\+(\S+)$/) || [];
    if (!name) {
      throw new Invalid("de sleutel is geen sleutel van een ondertekende notitie " +
                        "(naam+sleutel-id+base64).");
    }
    const raw = fromBase64(data);
    if (raw === null || raw.length !== 33 || raw[0] !== ED25519) {
      throw new Invalid("de sleutel is geen Ed25519-sleutel.");
    }
    const publicKey = raw.slice(1);
    const digest = await sha256(encoder.encode(`${name}\n`), Uint8Array.of(ED25519), publicKey);
    if (toHex(digest.slice(0, 4)) !== id.toLowerCase()) {
      throw new Invalid(`de sleutel-id ${id} hoort niet bij deze sleutel ` +
                        `(die heeft ${toHex(digest.slice(0, 4))}).`);
    }
    let key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (error) {
      if (error.name === "NotSupportedError") {
        throw new NoEd25519();
      }
      throw new Invalid(`de sleutel is geen geldige Ed25519-sleutel (${error.message}).`);
    }
    return { name, id: digest.slice(0, 4), text: `${name}+${id.toLowerCase()}+${data}`, key };
  }

  /** The checkpoint in a signed note, if `key` signed it: origin, size, root. */
  async function openCheckpoint(note, key, what) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0 || !note.endsWith("\n")) {
      throw new Invalid(`${what} is geen ondertekende notitie (tekst, lege regel, handtekeningen).`);
    }
    const text = note.slice(0, split + 1);
    let signed = false;
    for (const line of note.slice(split + 2, -1).split("\n")) {
      if (!line.startsWith(SIGNATURE_PREFIX)) {
        throw new Invalid(`${what} heeft een regel die geen handtekening is: ${line}`);
      }
      const [name, data] = line.slice(SIGNATURE_PREFIX.length).split(" ");
      const raw = fromBase64(data || "");
      if (name !== key.name || raw === null || raw.length < 5 || !equal(raw.slice(0, 4), key.id)) {
        continue; // a signature by another key (a witness, say): not the one checked here
      }
      if (!await crypto.subtle.verify("Ed25519", key.key, raw.slice(4), encoder.encode(text))) {
        throw new Invalid(`de handtekening op ${what} klopt niet met sleutel ${key.text}: ` +
                          "de tekst is veranderd of niet met deze sleutel ondertekend.");
      }
      signed = true;
    }
    if (!signed) {
      throw new Invalid(`${what} is niet ondertekend met sleutel ${key.text}.`);
    }
    const [origin, size, root] = text.slice(0, -1).split("\n");
    const rootHash = fromBase64(root || "");
    if (!/^(0|[1-9][0-9]*)$/.test(size || "") || rootHash === null ||
        rootHash.length !== HASH_SIZE) {
      throw new Invalid(`${what} noemt geen boomgrootte en wortel.`);
    }
    if (origin !== key.name) {
      throw new Invalid(`${what} is van logboek ${origin}, niet van ${key.name}.`);
    }
    return { origin, size: Number(size), root: rootHash, rootText: root };
  }

  async function currentCheckpoint(key) {
    const note = new TextDecoder().decode(await fetched(`${LOG}/checkpoint`, "De huidige stand"));
    return openCheckpoint(note, key, "de huidige stand");
  }

  // The checks ---------------------------------------------------------------------------------

  /** Each event {position, leafIndex} is a leaf of the signed tree: what was proven. */
  async function checkInclusion(keyText, events) {
    const key = await verifierKey(keyText);
    const checkpoint = await currentCheckpoint(key);
    const tiles = new Tiles(checkpoint.size);
    for (const { position, leafIndex } of events) {
      if (leafIndex >= checkpoint.size) {
        throw new Unchecked(`Positie ${position} (blad ${leafIndex}) valt nog buiten de ` +
                            `ondertekende stand van ${checkpoint.size} gebeurtenissen; de server ` +
                            "ondertekent elke seconde een nieuwe stand: probeer het zo opnieuw.");
      }
      const data = await tiles.leaf(leafIndex);
      if (data.length !== LEAF_SIZE || data[0] !== LEAF_FORMAT) {
        throw new Invalid(`blad ${leafIndex} is geen blad van het logboek (${data.length} bytes).`);
      }
      const named = new DataView(data.buffer, data.byteOffset).getBigUint64(1);
      if (named !== BigInt(position)) {
        throw new Invalid(`blad ${leafIndex} hoort bij positie ${named}, niet bij ${position}.`);
      }
      const proof = await Promise.all(
        inclusionPath(leafIndex, checkpoint.size).map((range) => tiles.rangeHash(range)));
      const root = await inclusionRoot(await leafHash(data), leafIndex, checkpoint.size, proof);
      if (!equal(root, checkpoint.root)) {
        throw new Invalid(`positie ${position} (blad ${leafIndex}) leidt met de tegels naar ` +
                          `wortel ${toBase64(root)}, niet naar de ondertekende wortel ` +
                          `${checkpoint.rootText}: het blad of de tegels zijn veranderd.`);
      }
    }
    const positions = events.map((event) => event.position).join(", ");
    return [`De stand van het logboek is ondertekend met sleutel ${key.text}.`,
            `${events.length === 1 ? "De gebeurtenis" : `Alle ${events.length} gebeurtenissen`} ` +
            `(positie ${positions}) ${events.length === 1 ? "zit" : "zitten"} in de boom van ` +
            `${checkpoint.size} gebeurtenissen met wortel ${checkpoint.rootText}: elk blad ` +
            "noemt zijn positie en leidt met de openbare tegels naar die wortel (SHA-256, RFC 9162)."];
  }

  /** The current signed tree extends the one a kept checkpoint signed: what was proven. */
  async function checkConsistency(keyText, keptNote) {
    const key = await verifierKey(keyText);
    const normalized = `${keptNote.replace(/\r\n?/g, "\n").trim()}\n`;
    const kept = await openCheckpoint(normalized, key, "de bewaarde stand");
    const current = await currentCheckpoint(key);
    if (kept.size > current.size) {
      throw new Invalid(`de bewaarde stand telt ${kept.size} gebeurtenissen, de huidige maar ` +
                        `${current.size}: het logboek is ingekort.`);
    }
    if (kept.size === current.size || kept.size === 0) {
      const same = kept.size === 0 || equal(kept.root, current.root);
      if (!same) {
        throw new Invalid(`twee ondertekende standen van ${kept.size} gebeurtenissen met ` +
                          "verschillende wortels: het logboek is gevorkt.");
      }
    } else {
      const tiles = new Tiles(current.size);
      const proof = await Promise.all(
        consistencyPath(kept.size, current.size).map((range) => tiles.rangeHash(range)));
      const [oldRoot, newRoot] = await consistencyRoots(kept.size, current.size, kept.root, proof);
      if (!equal(newRoot, current.root)) {
        throw new Invalid("de tegels leiden niet naar de ondertekende wortel van de huidige " +
                          `stand (${current.rootText}).`);
      }
      if (!equal(oldRoot, kept.root)) {
        throw new Invalid(`de eerste ${kept.size} gebeurtenissen van de huidige boom hebben ` +
                          `wortel ${toBase64(oldRoot)}, niet ${kept.rootText}: de geschiedenis ` +
                          "is herschreven of het logboek is gevorkt.");
      }
    }
    return [`Beide standen zijn ondertekend met sleutel ${key.text}.`,
            `De huidige boom van ${current.size} gebeurtenissen (wortel ${current.rootText}) ` +
            `begint met de bewaarde boom van ${kept.size} gebeurtenissen (wortel ` +
            `${kept.rootText}): sindsdien is alleen toegevoegd, niets veranderd (RFC 9162).`];
  }

  // The page -----------------------------------------------------------------------------------

  function show(output, verdict, lines) {
    const heading = document.createElement("p");
    const strong = document.createElement("strong");
    strong.textContent = verdict;
    heading.append(strong);
    heading.className = verdict === "Geverifieerd" ? "verdict-ok" : "verdict-not";
    const rest = lines.map((line) => {
      const paragraph = document.createElement("p");
      paragraph.textContent = line[0].toUpperCase() + line.slice(1);
      return paragraph;
    });
    output.replaceChildren(heading, ...rest);
  }

  async function run(output, check) {
    output.replaceChildren("Bezig met controleren…");
    try {
      if (!window.crypto?.subtle) {
        throw new Unchecked("De browser rekent alleen op een beveiligde verbinding (https): " +
                            "open deze pagina via https, of controleer met bevoegd verify.");
      }
      show(output, "Geverifieerd", await check());
    } catch (error) {
      if (error instanceof Invalid) {
        show(output, "Ongeldig", [error.message]);
      } else if (error instanceof Unchecked) {
        show(output, "Niet gecontroleerd", [error.message]);
      } else if (error instanceof NoEd25519) {
        show(output, "Niet gecontroleerd", [
          "Deze browser kan geen Ed25519-handtekeningen controleren (WebCrypto zonder Ed25519). " +
          "Gebruik een recentere browser, of controleer met het programma: bevoegd verify " +
          "--key SLEUTEL."]);
      } else {
        show(output, "Niet gecontroleerd", [`Er ging iets mis: ${error}`]);
      }
    }
  }

  /** Fills a key field left empty with the key the server itself gives. */
  async function defaultKey(field) {
    if (field.value.trim()) {
      return;
    }
    try {
      const text = await fetched(`${LOG}/verifier-key`, "De sleutel");
      if (!field.value.trim()) {
        // a key the visitor pasted while the server's was on its way is the one to check with
        field.value = new TextDecoder().decode(text).trim();
      }
    } catch {
      field.placeholder = "De server geeft geen sleutel: plak hier de sleutel van het logboek.";
    }
  }

  function setUp(element, check) {
    if (element.dataset.ready) {
      return; // the script is on the page twice
    }
    element.dataset.ready = "true";
    const field = element.querySelector("textarea[name=sleutel]");
    const output = element.querySelector("[data-result]");
    defaultKey(field);
    element.hidden = false;
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      run(output, () => check(field.value, element));
    });
  }

  for (const form of document.querySelectorAll("form[data-proof-check]")) {
    setUp(form, (key, element) => checkInclusion(key, Array.from(
      element.querySelectorAll("[data-position]"),
      (item) => ({ position: Number(item.dataset.position),
                   leafIndex: Number(item.dataset.leafIndex) }))));
  }
  for (const form of document.querySelectorAll("form[data-consistency-check]")) {
    setUp(form, (key, element) =>
      checkConsistency(key, element.querySelector("textarea[name=stand]").value));
  }
})();
