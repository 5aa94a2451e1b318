// Validates Argo documents against the schema of Argo's API types that the npm package
// @kubernetes-models/argo-workflows ships (see README.md). Usage:
//   node validate.mjs docs.json
// where docs.json holds a JSON array of documents (Workflow or CronWorkflow, by `kind`).
// Prints a JSON array with, per document, the list of its schema errors ("<path> <message>");
// exits 2 when the input cannot be read.
import { readFileSync } from "node:fs";
import { CronWorkflow, Workflow, WorkflowTemplate } from
  "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";

const kinds = { Workflow, CronWorkflow, WorkflowTemplate };
let docs;
try {
  docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
} catch (e) {
  console.error(`cannot read ${process.argv[2]}: ${e.message}`);
  process.exit(2);
}
const results = docs.map((doc) => {
  const Model = kinds[doc && doc.kind];
  if (!Model) return [`kind must be one of ${Object.keys(kinds).join(", ")}`];
  if (doc.apiVersion !== Model.apiVersion) return [`apiVersion must be ${Model.apiVersion}`];
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    if (!e.errors) throw e;
    return e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`);
  }
});
console.log(JSON.stringify(results));
