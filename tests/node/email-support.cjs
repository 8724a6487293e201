// Which features of an HTML email the big clients lack, from caniemail's data (doiuse-email).
//
//   node tests/node/email-support.cjs FILE.html ...
//
// Prints one JSON object: for each file, the unsupported ("errors") and partially supported
// ("warnings") features, each as [feature, client] pairs.
const fs = require("node:fs");
const { doIUseEmail } = require("doiuse-email");

const CLIENTS = ["gmail.*", "outlook.*", "apple-mail.*", "yahoo.*"];
const PAIR = /^(`.+`) is (?:not|only partially) supported by `([^`]+)`/;

function pairs(messages) {
  const out = [];
  for (const message of messages) {
    const m = PAIR.exec(message);
    if (m) out.push([m[1], m[2]]);
  }
  return out;
}

const result = {};
for (const file of process.argv.slice(2)) {
  const report = doIUseEmail(fs.readFileSync(file, "utf8"), { emailClients: CLIENTS });
  result[file] = { errors: pairs(report.errors), warnings: pairs(report.warnings) };
}
process.stdout.write(JSON.stringify(result));
