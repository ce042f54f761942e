// Parses a CSV file with csv-parse (the Node CSV parser, from the npm
// registry, pinned in scripts/install-deps) as a spreadsheet import would:
// a UTF-8 byte order mark taken off, RFC 4180 quoting, CRLF or LF. Prints
// {"bom": true|false, "rows": [[...], ...]} (the line ends the test checks
// in the bytes itself).
// Usage: node tests/harness/csv_check.js NODE_MODULES_DIR FILE
const path = require('path');
const fs = require('fs');
const { parse } = require(path.resolve(process.argv[2], 'csv-parse/dist/cjs/sync.cjs'));
const bytes = fs.readFileSync(process.argv[3]);
const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
const text = bytes.toString('utf8');
const rows = parse(text, { bom: true });
console.log(JSON.stringify({ bom, rows }));
