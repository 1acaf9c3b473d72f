import { useId, useState } from 'react';
import type { FormEvent } from 'react';

import type { MetadataKind, Stage } from './model.js';

export interface StageDraft {
  label: string;
  metadata: Record<string, string>;
}

interface Props {
  kind: MetadataKind;
  stage?: Pick<Stage, 'label' | 'metadata'>;
  submitLabel: string;
  onSubmit(draft: StageDraft): void;
  onCancel?(): void;
}

/** A stage's label and metadata: probability for deals, ticket state for tickets, state elsewhere. */
export function StageForm({ kind, stage, submitLabel, onSubmit, onCancel }: Props) {
  const id = useId();
  const [label, setLabel] = useState(stage?.label ?? '');
  const [probability, setProbability] = useState(stage?.metadata.probability ?? '0.5');
  const [state, setState] = useState(
    (kind === 'ticketState' ? stage?.metadata.ticketState : stage?.metadata.state) ?? 'OPEN',
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const metadata: Record<string, string> =
      kind === 'probability' ? { probability } : kind === 'ticketState' ? { ticketState: state } : { state };
    onSubmit({ label, metadata });
  }

  return (
    <form className="stage-form" onSubmit={submit}>
      <label htmlFor={`${id}-label`}>Stage label</label>
      <input id={`${id}-label`} value={label} onChange={(e) => setLabel(e.target.value)} required />
      {kind === 'probability' ? (
        <>
          <label htmlFor={`${id}-probability`}>Probability (0 to 1)</label>
          <input
            id={`${id}-probability`}
            inputMode="decimal"
            value={probability}
            onChange={(e) => setProbability(e.target.value)}
            required
          />
        </>
      ) : (
        <>
          <label htmlFor={`${id}-state`}>{kind === 'ticketState' ? 'Ticket state' : 'State'}</label>
          <select id={`${id}-state`} value={state} onChange={(e) => setState(e.target.value)}>
            <option value="OPEN">Open</option>
            <option value="CLOSED">Closed</option>
          </select>
        </>
      )}
      <div className="row">
        <button type="submit">{submitLabel}</button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
