import { z } from 'zod';
import { scenarioSchema } from './schema.ts';

/** The scenario contract as JSON Schema, describing what a file may contain (defaults optional). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    $id: 'https://fanout-tuner.dev/schema/scenario.schema.json',
    title: 'fanout-tuner scenario',
  };
}
