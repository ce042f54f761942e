// Validates a JSON array of xAPI statements with Learning Locker's
// xapi-validation (conformance-tested) and prints, as JSON, the warnings
// for each statement. Usage: node tests/xapi_check.js NODE_MODULES_DIR FILE
const path = require('path');
const fs = require('fs');
const validate = require(path.resolve(process.argv[2], 'xapi-validation')).default;
const statements = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
console.log(JSON.stringify(statements.map(s => validate(s).map(w => String(w.message || w)))));
