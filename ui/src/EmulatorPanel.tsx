import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { ChangeEvent, FormEvent } from 'react';

import type { Api } from './api.js';
import { errorMessage } from './api.js';
import { Action } from './controls.js';
import {
  EMPTY_FAULT,
  METHODS,
  NO_FILTER,
  describeFault,
  faultFromDraft,
  journalQuery,
  snapshotFileName,
} from './emulator.js';
import type { ClockState, Fault, FaultDraft, JournalEntry, JournalFilter } from './emulator.js';

interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  numeric?: boolean;
  placeholder?: string;
  className?: string;
}

/** A label and its text input. */
function TextField({ id, label, value, onChange, numeric, placeholder, className }: TextFieldProps) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className={className}
        inputMode={numeric === true ? 'numeric' : undefined}
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </>
  );
}

/** "Method": any, or one of HubSpot's. */
function MethodSelect({ id, value, onChange }: Pick<TextFieldProps, 'id' | 'value' | 'onChange'>) {
  return (
    <>
      <label htmlFor={id}>Method</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {METHODS.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
    </>
  );
}

/** The fault form's number fields, after its method and path. */
const NUMBER_FIELDS: ReadonlyArray<[keyof FaultDraft, string]> = [
  ['status', 'Status'],
  ['times', 'Times (empty: until removed)'],
  ['delayMs', 'Delay (ms)'],
];

/** The journal's columns. */
const COLUMNS = ['Time', 'Method', 'Path', 'Status', 'ms', 'Fault'];

/** How often the journal, the faults and the clock are read again while the tab is visible. */
const POLL_MS = 1000;

interface EmulatorPanelProps {
  api: Api;
  portalId: number | undefined;
  /** The portal's pipelines and records changed under the board (a reset, a restore). */
  onPortalChanged(): void;
  /** A refused control-plane call: shown as the board shows the API's refusals. */
  onError(err: unknown): void;
}

/**
 * The emulator control plane of the signed-in portal: its request journal (live, filterable), its
 * faults, its clock, and reset and snapshots. Shown only when the control plane answers.
 */
export function EmulatorPanel({ api, portalId, onPortalChanged, onError }: EmulatorPanelProps) {
  const ids = useId();
  const [filter, setFilter] = useState<JournalFilter>(NO_FILTER);
  const [journal, setJournal] = useState<JournalEntry[] | undefined>();
  const [faults, setFaults] = useState<Fault[] | undefined>();
  const [clock, setClock] = useState<ClockState | undefined>();
  const [pollError, setPollError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  /** Bumped after each change, so what it changed is read at once rather than at the next poll. */
  const [changed, setChanged] = useState(0);
  const [draft, setDraft] = useState<FaultDraft>(EMPTY_FAULT);
  const [freezeAt, setFreezeAt] = useState('');
  const [advanceBy, setAdvanceBy] = useState('60000');

  // The journal holds response bodies (pages of records among them): it is read only while it
  // is on screen, so a board below it loads without that traffic.
  const journalRef = useRef<HTMLElement>(null);
  const [journalShown, setJournalShown] = useState(false);
  useEffect(() => {
    const element = journalRef.current;
    if (element === null || typeof IntersectionObserver === 'undefined') {
      setJournalShown(true);
      return;
    }
    const observer = new IntersectionObserver((seen) => setJournalShown(seen.some((e) => e.isIntersecting)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const query = journalQuery(filter);
  const filtered = Object.values(filter).some((v) => v.trim() !== '');
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      if (!document.hidden) {
        try {
          const [entries, list, time] = await Promise.all([
            journalShown ? api.journal(query) : undefined,
            api.faults(),
            api.clock(),
          ]);
          if (!live) return;
          if (entries !== undefined) setJournal(entries);
          setFaults(list);
          setClock(time);
          setPollError(undefined);
        } catch (err) {
          if (live) setPollError(errorMessage(err));
        }
      }
      if (live) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, query, changed, journalShown]);

  /** Runs a control-plane change and says what it did; a refusal goes to the board's banner. */
  const run = useCallback(
    async (change: () => Promise<unknown>, done: string): Promise<boolean> => {
      try {
        await change();
        setStatus(done);
        setChanged((n) => n + 1);
        return true;
      } catch (err) {
        onError(err);
        return false;
      }
    },
    [onError],
  );

  function addFault(event: FormEvent) {
    event.preventDefault();
    const made = faultFromDraft(draft);
    if ('error' in made) {
      onError(new Error(made.error));
      return;
    }
    void run(() => api.addFault(made.spec), 'Fault added').then(
      (ok) => ok && setDraft((d) => ({ ...d, path: '' })),
    );
  }

  function freeze(event: FormEvent) {
    event.preventDefault();
    const at = freezeAt.trim() === '' ? new Date() : new Date(freezeAt.trim());
    if (Number.isNaN(at.getTime())) {
      onError(new Error(`Not a time: ${freezeAt}. Use an ISO time such as 2026-01-15T09:30:00Z`));
      return;
    }
    void run(() => api.setClock({ now: at.toISOString() }), `Clock frozen at ${at.toISOString()}`);
  }

  function advance(event: FormEvent) {
    event.preventDefault();
    const ms = Number(advanceBy);
    if (!Number.isInteger(ms) || ms < 0) {
      onError(new Error('Advance by a whole number of milliseconds'));
      return;
    }
    void run(() => api.setClock({ advanceMs: ms }), `Clock advanced by ${ms} ms`);
  }

  function reset() {
    if (!window.confirm('Reset the portal? Its pipelines, records and audit trails go back to the start.'))
      return;
    void run(() => api.resetPortal(), 'Portal reset').then((ok) => ok && onPortalChanged());
  }

  function download() {
    void run(async () => {
      const snapshot = await api.snapshot();
      const blob = new Blob([JSON.stringify(snapshot, null, 2)], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = snapshotFileName(portalId, new Date());
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }, 'Snapshot downloaded');
  }

  function restore(event: ChangeEvent<HTMLInputElement>) {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (file === undefined) return;
    void run(async () => {
      let snapshot: unknown;
      try {
        snapshot = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not JSON`);
      } finally {
        input.value = '';
      }
      await api.restoreSnapshot(snapshot);
    }, `Snapshot ${file.name} restored`).then((ok) => ok && onPortalChanged());
  }

  const setField = (key: keyof FaultDraft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const setFilterField = (key: keyof JournalFilter) => (value: string) =>
    setFilter((f) => ({ ...f, [key]: value }));

  return (
    <section id="emulator" className="emulator" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Emulator</h2>
      <p role="status" className="help">
        {status}
      </p>

      <div className="emulator-grid">
        <section className="panel" aria-labelledby={`${ids}-clock`}>
          <h3 id={`${ids}-clock`}>Clock</h3>
          <p className="clock-state">
            {clock === undefined
              ? 'Reading the clock…'
              : clock.mode === 'frozen'
                ? `Frozen at ${clock.now}`
                : `System time (${clock.now})`}
          </p>
          <form className="row wrap" onSubmit={freeze}>
            <TextField
              id={`${ids}-freeze`}
              label="Freeze at"
              value={freezeAt}
              placeholder="ISO time; empty: now"
              onChange={setFreezeAt}
            />
            <button type="submit">Freeze</button>
          </form>
          <form className="row wrap" onSubmit={advance}>
            <TextField
              id={`${ids}-advance`}
              label="Advance by (ms)"
              numeric
              value={advanceBy}
              onChange={setAdvanceBy}
            />
            <button type="submit" disabled={clock?.mode !== 'frozen'}>
              Advance
            </button>
          </form>
          <button
            type="button"
            className="secondary"
            disabled={clock?.mode !== 'frozen'}
            onClick={() => void run(() => api.setClock({ mode: 'system' }), 'Clock back to system time')}
          >
            Use system time
          </button>
        </section>

        <section className="panel" aria-labelledby={`${ids}-portal`}>
          <h3 id={`${ids}-portal`}>Portal state</h3>
          <div className="row wrap">
            <button type="button" className="danger" onClick={reset}>
              Reset portal
            </button>
            <button type="button" className="secondary" onClick={download}>
              Download snapshot
            </button>
          </div>
          <div className="row wrap">
            <label htmlFor={`${ids}-restore`}>Restore a snapshot</label>
            <input id={`${ids}-restore`} type="file" accept="application/json,.json" onChange={restore} />
          </div>
        </section>

        <section className="panel" aria-labelledby={`${ids}-faults`}>
          <h3 id={`${ids}-faults`}>Faults</h3>
          <form className="fault-form" onSubmit={addFault} aria-label="Add a fault">
            <MethodSelect id={`${ids}-f-method`} value={draft.method} onChange={setField('method')} />
            <TextField
              id={`${ids}-f-path`}
              label="Path"
              value={draft.path}
              placeholder="/crm/v3/pipelines/deals"
              onChange={setField('path')}
            />
            {NUMBER_FIELDS.map(([key, label]) => (
              <TextField
                key={key}
                id={`${ids}-f-${key}`}
                label={label}
                numeric
                value={draft[key]}
                onChange={setField(key)}
              />
            ))}
            <button type="submit">Add fault</button>
          </form>
          <ul className="faults" aria-label="Active faults">
            {faults === undefined && <li>Loading…</li>}
            {faults?.length === 0 && <li className="help">No faults.</li>}
            {faults?.map((f) => (
              <li key={f.id} className="row">
                <span className="fault-text">
                  #{f.id}: {describeFault(f)}
                  {f.applied > 0 && `, applied ${f.applied}×`}
                </span>
                <Action
                  label={`Remove fault ${f.id}`}
                  onClick={() => void run(() => api.removeFault(f.id), `Fault ${f.id} removed`)}
                >
                  Remove
                </Action>
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="secondary"
            disabled={faults === undefined || faults.length === 0}
            onClick={() => void run(() => api.removeFault(), 'Faults cleared')}
          >
            Clear faults
          </button>
        </section>
      </div>

      <section ref={journalRef} className="panel" aria-labelledby={`${ids}-journal`}>
        <h3 id={`${ids}-journal`}>Request journal</h3>
        <form className="row wrap" aria-label="Filter the journal" onSubmit={(e) => e.preventDefault()}>
          <MethodSelect id={`${ids}-j-method`} value={filter.method} onChange={setFilterField('method')} />
          <TextField
            id={`${ids}-j-path`}
            label="Path"
            value={filter.path}
            placeholder="/crm/v3/pipelines"
            onChange={setFilterField('path')}
          />
          <TextField
            id={`${ids}-j-status`}
            label="Status"
            className="short"
            numeric
            value={filter.status}
            onChange={setFilterField('status')}
          />
          <button
            type="button"
            className="secondary"
            onClick={() => void run(() => api.clearJournal(), 'Journal emptied')}
          >
            Empty journal
          </button>
        </form>
        {pollError !== undefined && <p className="error">{pollError}</p>}
        <div className="journal-scroll">
          <table className="journal" aria-label="Requests, newest first">
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {journal?.length === 0 && (
                <tr>
                  <td colSpan={COLUMNS.length} className="help">
                    {filtered ? 'No request matches the filter.' : 'No requests yet.'}
                  </td>
                </tr>
              )}
              {journal?.map((e) => (
                <tr
                  key={`${e.correlationId}-${e.at}`}
                  className={e.status !== null && e.status >= 400 ? 'failed' : undefined}
                >
                  <td>{e.at.slice(11, 23)}</td>
                  <td>{e.method}</td>
                  <td className="path">{e.path}</td>
                  <td>{e.status ?? 'dropped'}</td>
                  <td>{Math.round(e.durationMs)}</td>
                  <td>{e.fault === null ? '' : `#${e.fault.id}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  );
}
