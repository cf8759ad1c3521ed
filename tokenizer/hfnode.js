// The child process of tokbench's hf-node backend: Hugging Face's tokenizers
// library (the npm package "tokenizers") encoding for tr117.
//
//   node hfnode.js PACKAGE_DIR TOKENIZER_JSON
//
// It loads the tokenizer.json with the real library and writes one JSON line:
// {"ok":true,"version":...,"node":...,"vocab_size":...} or {"error":...}
// (then exits 1). After that it reads one JSON request per line on stdin,
// {"texts":[...],"ids":bool,"offsets":bool}, and answers each with one line:
// {"ns":"…","counts":[…],"ids":[base64 of little-endian uint32 …],
// "offsets":[…]} or {"error":…}. One text is encoded with encode(), several
// with encodeBatch() (the library's own threads: RAYON_NUM_THREADS). "ns" is
// the encode alone, timed here: reading the request, building the id arrays
// and writing the answer are not in it. Offsets are the start of each token
// in Unicode code points. No special token is added; the file's truncation
// and padding are turned off.
'use strict'

const readline = require('readline')

function fail(msg) {
  process.stdout.write(JSON.stringify({ error: String(msg) }) + '\n', () => process.exit(1))
}

function u32(arr) {
  return Buffer.from(Uint32Array.from(arr).buffer).toString('base64')
}

async function answer(tok, req) {
  const texts = req.texts
  const opts = { addSpecialTokens: false }
  let encs
  const t0 = process.hrtime.bigint()
  if (texts.length === 1) {
    encs = [await tok.encode(texts[0], null, opts)]
  } else {
    encs = await tok.encodeBatch(texts, opts)
  }
  const ns = process.hrtime.bigint() - t0
  const out = { ns: ns.toString(), counts: encs.map((e) => e.getLength()) }
  if (req.ids) out.ids = encs.map((e) => u32(e.getIds()))
  if (req.offsets) out.offsets = encs.map((e) => u32(e.getOffsets().map((o) => o[0])))
  return out
}

async function main() {
  const [pkgDir, file] = process.argv.slice(2)
  let lib, tok
  try {
    lib = require(pkgDir)
  } catch (e) {
    return fail('cannot load the tokenizers package from ' + pkgDir + ': ' + e.message)
  }
  try {
    tok = lib.Tokenizer.fromFile(file)
    // tokbench counts every token of the text, as tr117's backends do.
    tok.disableTruncation()
    tok.disablePadding()
  } catch (e) {
    return fail('the Hugging Face library refused it: ' + e.message)
  }
  const version = require(pkgDir + '/package.json').version
  process.stdout.write(
    JSON.stringify({ ok: true, version, node: process.version, vocab_size: tok.getVocabSize(true) }) + '\n',
  )
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    let out
    try {
      out = await answer(tok, JSON.parse(line))
    } catch (e) {
      out = { error: String(e && e.message ? e.message : e) }
    }
    if (!process.stdout.write(JSON.stringify(out) + '\n')) {
      await new Promise((resolve) => process.stdout.once('drain', resolve))
    }
  }
}

main().catch((e) => fail(e && e.stack ? e.stack : e))
