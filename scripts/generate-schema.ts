/** Writes schema/scenario.schema.json from the validator, so editors check scenarios as the tool does. */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../harness/scenario/json-schema.ts';

writeFileSync('schema/scenario.schema.json', `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
console.log('wrote schema/scenario.schema.json');
