/** How plans and progress read: coloured text for a terminal, plain text otherwise, or JSON. */
import type { FieldChange, Plan, StepAction } from './plan.js';
import { countPlan, hasChanges, planWarnings } from './plan.js';

/** Colours when the stream is a terminal and NO_COLOR is unset (https://no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const CODES: Record<StepAction | 'skip' | 'warn', string> = {
  create: '32',
  update: '33',
  reorder: '36',
  archive: '31',
  none: '2',
  skip: '2',
  warn: '1;33',
};
const SIGNS: Record<StepAction, string> = { create: '+', update: '~', reorder: '↕', archive: '-', none: ' ' };

const show = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));
const changeText = (c: FieldChange): string => `${c.field}: ${show(c.before)} → ${show(c.after)}`;

export function renderPlan(plan: Plan, colour: boolean): string {
  const paint = (action: StepAction | 'skip' | 'warn', text: string) =>
    colour ? `\u001b[${CODES[action]}m${text}\u001b[0m` : text;
  const lines: string[] = [];
  for (const type of plan.types) {
    lines.push(`${type.objectType}:`);
    if (type.skipped !== undefined) {
      lines.push(paint('skip', `  skipped: ${type.skipped}`));
      continue;
    }
    const changed = type.pipelines.filter((p) => p.action !== 'none');
    if (changed.length === 0) lines.push(paint('none', '  no changes'));
    for (const p of changed) {
      const id = p.targetId ?? p.sourceId;
      const stageCount = p.pipeline === undefined ? '' : ` with ${p.pipeline.stages.length} stages`;
      lines.push(
        paint(p.action, `  ${SIGNS[p.action]} ${p.action} pipeline "${p.label}" (${id})${stageCount}`),
      );
      if (p.warning !== undefined) lines.push(paint('warn', `      ! warning: ${p.warning}`));
      for (const c of p.changes) lines.push(paint(p.action, `      ${changeText(c)}`));
      for (const s of p.stages.filter((step) => step.action !== 'none')) {
        lines.push(
          paint(
            s.action,
            `    ${SIGNS[s.action]} ${s.action} stage "${s.label}" (${s.targetId ?? s.sourceId})`,
          ),
        );
        for (const c of s.changes) lines.push(paint(s.action, `        ${changeText(c)}`));
      }
    }
  }
  const counts = countPlan(plan);
  lines.push(
    '',
    hasChanges(plan)
      ? `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.reorder} to reorder, ${counts.archive} to archive.`
      : 'No changes. The portal matches the file.',
  );
  return `${lines.join('\n')}\n`;
}

export const planJson = (plan: Plan): string =>
  `${JSON.stringify(
    { changes: hasChanges(plan), counts: countPlan(plan), warnings: planWarnings(plan), types: plan.types },
    null,
    2,
  )}\n`;

/** Progress of an apply: a bar redrawn in place on a terminal, one line per pipeline otherwise. */
export function progressReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
): (done: number, total: number, operation: { pipeline: string }) => void {
  const terminal = stream.isTTY === true;
  let lastPipeline: string | undefined;
  let pipelinesDone = 0;
  return (done, total, operation) => {
    if (terminal) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${operation.pipeline}\u001b[K`,
      );
      if (done === total) stream.write('\n');
      return;
    }
    if (operation.pipeline !== lastPipeline) {
      lastPipeline = operation.pipeline;
      pipelinesDone++;
      stream.write(`applying ${operation.pipeline} (pipeline ${pipelinesDone}, call ${done} of ${total})\n`);
    }
  };
}
