// Validate an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node asyncapi_validate.mjs [file.json]   (reads stdin without a file)
// Prints every diagnostic; exits 1 when one has severity error, 2 on bad usage.
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const source = process.argv[2] ? readFileSync(process.argv[2], "utf8") : readFileSync(0, "utf8");
if (!source.trim()) {
  console.error("no AsyncAPI document given (a file argument or stdin)");
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(source);
const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([k, v]) => [v, k]));
let errors = 0;
for (const d of diagnostics) {
  if (d.severity === DiagnosticSeverity.Error) errors += 1;
  const where = (d.path || []).join(".") || "(document)";
  console.log(`${names[d.severity] ?? d.severity} ${d.code} at ${where}: ${d.message}`);
}
if (errors || !document) {
  console.log(`${errors} error(s): the document is not valid AsyncAPI`);
  process.exit(1);
}
console.log(`valid AsyncAPI ${document.version()}`);
