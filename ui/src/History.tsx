import { useEffect, useState } from 'react';

import { errorMessage } from './api.js';
import { auditTimeline, showValue } from './audit-diff.js';
import type { AuditVersion } from './audit-diff.js';
import type { AuditEntry } from './model.js';

export interface HistoryTarget {
  title: string;
  load(): Promise<AuditEntry[]>;
}

interface Props {
  target: HistoryTarget;
  onClose(): void;
}

/** An audit trail as a timeline, newest first, each version with what changed in it. */
export function History({ target, onClose }: Props) {
  const [versions, setVersions] = useState<AuditVersion[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    setVersions(undefined);
    setError(undefined);
    target.load().then(
      (entries) => live && setVersions(auditTimeline(entries)),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [target]);

  return (
    <aside className="history" aria-label={`History of ${target.title}`}>
      <div className="row">
        <h2>History of {target.title}</h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {error !== undefined && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {versions === undefined && error === undefined && <p>Loading…</p>}
      {versions?.length === 0 && <p>No audit entries.</p>}
      <ol className="timeline">
        {versions?.map((v, i) => (
          <li key={`${v.entry.timestamp}-${i}`} className="version">
            <p className="version-head">
              <strong>{v.entry.action}</strong> <time dateTime={v.entry.timestamp}>{v.entry.timestamp}</time>{' '}
              by user {v.entry.fromUserId}
            </p>
            <p className="help">{v.entry.message}</p>
            {v.changes.length > 0 && (
              <table className="diff">
                <caption className="visually-hidden">Fields changed in this version</caption>
                <thead>
                  <tr>
                    <th scope="col">Field</th>
                    <th scope="col">Before</th>
                    <th scope="col">After</th>
                  </tr>
                </thead>
                <tbody>
                  {v.changes.map((c) => (
                    <tr key={c.path} className={c.kind} data-field={c.path}>
                      <th scope="row">{c.path}</th>
                      <td>{showValue(c.before)}</td>
                      <td>{showValue(c.after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </li>
        ))}
      </ol>
    </aside>
  );
}
