import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';

const schema = JSON.parse(readFileSync(resolve(__dirname, '../../schema/measurement-report.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('date-time', { validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s) });
const validate = ajv.compile(schema);

/** Throws with every schema violation listed when the report does not match the JSON Schema. */
export function assertValidReport(report: unknown): void {
  if (!validate(report)) throw new Error(`report does not match schema/measurement-report.schema.json:\n${ajv.errorsText(validate.errors, { separator: '\n' })}\n${JSON.stringify(report, null, 2)}`);
}
