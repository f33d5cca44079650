// Validates an AsyncAPI document with the official parser (@asyncapi/parser): the AsyncAPI 3 JSON Schema,
// reference resolution, payload schemas in their schemaFormat, and the parser's Spectral rule set.
// Usage: node validate.mjs FILE [--strict]   (--strict also fails on warnings)
// Exit status: 0 valid, 1 diagnostics of error severity (or warnings with --strict), 2 usage or I/O error.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const strict = args.includes("--strict");
if (!file) {
  console.error("usage: node validate.mjs FILE [--strict]");
  process.exit(2);
}
let text;
try {
  text = await readFile(file, "utf8");
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}
if (/^\s*[^#\n]*[&*]id\d+/m.test(text)) {
  console.error(`${file}: contains YAML anchors or aliases (&id/*id), which many AsyncAPI tools do not follow`);
  process.exit(1);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(text, { source: file });
const names = { [DiagnosticSeverity.Error]: "error", [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info", [DiagnosticSeverity.Hint]: "hint" };
const counts = { error: 0, warning: 0, info: 0, hint: 0 };
for (const d of diagnostics) {
  const level = names[d.severity] ?? "error";
  counts[level] += 1;
  const where = (d.path ?? []).join(".");
  console.log(`${level.padEnd(7)} ${d.code}  ${where}  ${d.message}`);
}
const failed = !document || counts.error > 0 || (strict && counts.warning > 0);
if (document) {
  const doc = document;
  console.log(
    `${file}: AsyncAPI ${doc.version()} — ${doc.channels().length} channels, ${doc.operations().length} operations, ` +
      `${doc.allMessages().length} messages, ${doc.servers().length} servers; ` +
      `${counts.error} errors, ${counts.warning} warnings`,
  );
}
process.exit(failed ? 1 : 0);
