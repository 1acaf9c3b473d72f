import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import type { FormEvent } from 'react';

import { Api, ApiError, errorMessage } from './api.js';
import type { Preloaded } from './api.js';
import { byDisplayOrder, displayOrderPatches } from './board-math.js';
import { Board } from './Board.js';
import { History } from './History.js';
import type { HistoryTarget } from './History.js';
import { ENTERED_CURRENT_STAGE, OBJECT_TYPES } from './model.js';
import type { MetadataKind, ObjectTypeInfo, Pipeline, Stage } from './model.js';
import { EmulatorPanel } from './EmulatorPanel.js';
import { PipelineList } from './PipelineList.js';
import { ArchivedList } from './controls.js';
import type { ArchivedItem } from './controls.js';
import * as session from './session.js';
import { SignIn } from './SignIn.js';
import { cardProperties, useBoardData } from './use-board-data.js';
import type { StageDraft } from './StageForm.js';
import { archivedInSnapshot, findArchivedPipelines, findArchivedStages } from './archived.js';

export function App({ preloaded }: { preloaded?: Preloaded }) {
  const [token, setToken] = useState(session.loadToken);
  const [notice, setNotice] = useState<string | undefined>();

  if (token === undefined) {
    return (
      <>
        {notice !== undefined && (
          <p role="alert" className="error banner">
            {notice}
          </p>
        )}
        <SignIn
          onSignedIn={(value) => {
            session.saveToken(value);
            setNotice(undefined);
            setToken(value);
          }}
        />
      </>
    );
  }
  return (
    <Workspace
      key={token}
      token={token}
      preloaded={preloaded?.token === token ? preloaded : undefined}
      onSwitch={(value) => {
        session.saveToken(value);
        setToken(value);
      }}
      onSignOut={(why) => {
        session.clearToken();
        setNotice(why);
        setToken(undefined);
      }}
    />
  );
}

const defaultStages = (kind: MetadataKind) =>
  kind === 'probability'
    ? [
        { label: 'Open', displayOrder: 0, metadata: { probability: '0.2' } },
        { label: 'Won', displayOrder: 1, metadata: { probability: '1.0' } },
        { label: 'Lost', displayOrder: 2, metadata: { probability: '0.0' } },
      ]
    : [
        { label: 'Open', displayOrder: 0, metadata: { [kind]: 'OPEN' } },
        { label: 'Closed', displayOrder: 1, metadata: { [kind]: 'CLOSED' } },
      ];

/** The object type the tab looked at last, deals at first. */
export const chosenType = (): ObjectTypeInfo =>
  OBJECT_TYPES.find((t) => t.name === session.loadChoice('type')) ?? OBJECT_TYPES[0]!;

interface WorkspaceProps {
  token: string;
  /** The first reads of this token's board, made before the first render. */
  preloaded?: Preloaded;
  onSwitch(token: string): void;
  onSignOut(why?: string): void;
}

function Workspace({ token, preloaded, onSwitch, onSignOut }: WorkspaceProps) {
  const api = useMemo(() => new Api(token), [token]);
  const ids = useId();
  const [portalId, setPortalId] = useState<number | undefined>();
  const [typeName, setTypeName] = useState(() => chosenType().name);
  const type = OBJECT_TYPES.find((t) => t.name === typeName) ?? OBJECT_TYPES[0]!;
  const [selectedId, setSelectedId] = useState<string | undefined>(() =>
    session.loadChoice(`pipeline.${typeName}`),
  );
  const [error, setError] = useState<string | undefined>();
  const [history, setHistory] = useState<HistoryTarget | undefined>();
  const [showArchived, setShowArchived] = useState(false);
  const [archivedPipelines, setArchivedPipelines] = useState<ArchivedItem[] | undefined>();
  const [archivedStages, setArchivedStages] = useState<ArchivedItem[] | undefined>();
  const [switchTo, setSwitchTo] = useState('');
  const [reload, setReload] = useState(0);
  /** Whether the control plane answers this token: the emulator panel shows only when it does. */
  const [emulator, setEmulator] = useState<'unknown' | 'on' | 'off'>('unknown');

  const fail = useCallback(
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) onSignOut(err.message);
      else setError(errorMessage(err));
    },
    [onSignOut],
  );

  /** Runs a change; a refusal shows the server's message. True when it went through. */
  const attempt = useCallback(
    async (change: () => Promise<unknown>): Promise<boolean> => {
      try {
        await change();
        setError(undefined);
        return true;
      } catch (err) {
        fail(err);
        return false;
      }
    },
    [fail],
  );

  useEffect(() => {
    api.account().then((a) => setPortalId(a.portalId), fail);
  }, [api, fail]);

  useEffect(() => {
    let live = true;
    void api.controlPlaneOn().then((on) => live && setEmulator(on ? 'on' : 'off'));
    return () => {
      live = false;
    };
  }, [api]);

  const reloadBoard = useCallback(() => {
    setHistory(undefined);
    setReload((n) => n + 1);
  }, []);

  const { pipelines, setPipelines, records, complete, owners, putRecord } = useBoardData(
    api,
    type,
    preloaded,
    fail,
    reload,
  );

  const sorted = useMemo(() => (pipelines === undefined ? [] : byDisplayOrder(pipelines)), [pipelines]);
  const pipeline = sorted.find((p) => p.id === selectedId) ?? sorted[0];
  const pipelineRecords = useMemo(() => {
    if (records === undefined || pipeline === undefined) return [];
    const prop = type.pipelineProperty;
    return prop === null ? records : records.filter((r) => r.properties[prop] === pipeline.id);
  }, [records, pipeline, type]);

  const archiveKey = `${portalId ?? 'unknown'}.${type.name}`;
  useEffect(() => {
    if (!showArchived || portalId === undefined || emulator === 'unknown') return;
    let live = true;
    setArchivedPipelines(undefined);
    // The control plane's snapshot holds every archived pipeline, also those archived elsewhere
    // (a test run, another tab); without it, only the ids this tab archived can be looked up.
    const found =
      emulator === 'on'
        ? api.snapshot().then((snapshot) => archivedInSnapshot(snapshot, type.name))
        : findArchivedPipelines(api, type.name, session.loadArchived(`${archiveKey}.pipelines`));
    found.then((list) => live && setArchivedPipelines(list), fail);
    return () => {
      live = false;
    };
  }, [showArchived, api, type, archiveKey, portalId, emulator, fail]);

  useEffect(() => {
    if (!showArchived || portalId === undefined || pipeline === undefined) return;
    let live = true;
    setArchivedStages(undefined);
    findArchivedStages(api, type.name, pipeline, session.loadArchived(`${archiveKey}.${pipeline.id}`)).then(
      (found) => live && setArchivedStages(found),
      fail,
    );
    return () => {
      live = false;
    };
  }, [showArchived, api, type, pipeline, archiveKey, portalId, fail]);

  function chooseType(name: string) {
    session.saveChoice('type', name);
    setTypeName(name);
    setSelectedId(session.loadChoice(`pipeline.${name}`));
    setHistory(undefined);
  }

  function choosePipeline(id: string) {
    session.saveChoice(`pipeline.${type.name}`, id);
    setSelectedId(id);
    setHistory(undefined);
  }

  const replaceStage = useCallback(
    (pipelineId: string, stage: Stage) => {
      setPipelines((list) =>
        list?.map((p) =>
          p.id !== pipelineId
            ? p
            : {
                ...p,
                stages: [...p.stages.filter((s) => s.id !== stage.id), ...(stage.archived ? [] : [stage])],
              },
        ),
      );
    },
    [setPipelines],
  );

  // ----- records -----
  const moveRecord = useCallback(
    (recordId: string, stageId: string) => {
      const before = records?.find((r) => r.id === recordId);
      if (before === undefined) return;
      const put = putRecord;
      put({
        ...before,
        properties: {
          ...before.properties,
          [type.stageProperty]: stageId,
          [ENTERED_CURRENT_STAGE]: new Date().toISOString(),
        },
      });
      void attempt(async () => {
        try {
          await api.updateRecord(type.name, recordId, { [type.stageProperty]: stageId });
        } catch (err) {
          put(before);
          throw err;
        }
        put(await api.record(type.name, recordId, cardProperties(type)));
      });
    },
    [api, attempt, records, type, putRecord],
  );

  // ----- stages -----
  const pipelineId = pipeline?.id;
  const reorderStages = useCallback(
    (orderedIds: string[]) => {
      if (pipeline === undefined) return;
      const patches = displayOrderPatches(pipeline.stages, orderedIds);
      const order = new Map(patches.map((p) => [p.id, p.displayOrder]));
      setPipelines((list) =>
        list?.map((p) =>
          p.id !== pipeline.id
            ? p
            : {
                ...p,
                stages: p.stages.map((s) => ({ ...s, displayOrder: order.get(s.id) ?? s.displayOrder })),
              },
        ),
      );
      void attempt(async () => {
        try {
          for (const patch of patches) {
            replaceStage(
              pipeline.id,
              await api.patchStage(type.name, pipeline.id, patch.id, { displayOrder: patch.displayOrder }),
            );
          }
        } catch (err) {
          setReload((n) => n + 1);
          throw err;
        }
      });
    },
    [api, attempt, pipeline, replaceStage, setPipelines, type],
  );

  const editStage = useCallback(
    (stage: Stage, draft: StageDraft) =>
      attempt(async () => {
        if (pipelineId === undefined) return;
        replaceStage(pipelineId, await api.patchStage(type.name, pipelineId, stage.id, { ...draft }));
      }),
    [api, attempt, pipelineId, replaceStage, type],
  );

  const archiveStage = useCallback(
    (stage: Stage) =>
      void attempt(async () => {
        if (pipelineId === undefined) return;
        await api.archiveStage(type.name, pipelineId, stage.id);
        session.rememberArchived(`${archiveKey}.${pipelineId}`, stage.id, true);
        replaceStage(pipelineId, { ...stage, archived: true });
      }),
    [api, attempt, pipelineId, replaceStage, type, archiveKey],
  );

  const addStage = useCallback(
    (draft: StageDraft) =>
      attempt(async () => {
        if (pipeline === undefined) return;
        const displayOrder = Math.max(-1, ...pipeline.stages.map((s) => s.displayOrder)) + 1;
        replaceStage(pipeline.id, await api.createStage(type.name, pipeline.id, { ...draft, displayOrder }));
      }),
    [api, attempt, pipeline, replaceStage, type],
  );

  const restoreStage = (id: string) =>
    void attempt(async () => {
      if (pipelineId === undefined) return;
      replaceStage(pipelineId, await api.patchStage(type.name, pipelineId, id, { archived: false }));
      session.rememberArchived(`${archiveKey}.${pipelineId}`, id, false);
      setArchivedStages((list) => list?.filter((s) => s.id !== id));
    });

  const stageHistory = useCallback(
    (stage: Stage) => {
      if (pipelineId === undefined) return;
      setHistory({
        title: `stage ${stage.label}`,
        load: () => api.stageAudit(type.name, pipelineId, stage.id),
      });
    },
    [api, pipelineId, type],
  );

  // ----- pipelines -----
  const putPipeline = (p: Pipeline) =>
    setPipelines((list) => [...(list ?? []).filter((x) => x.id !== p.id), p]);

  const createPipeline = (label: string) =>
    attempt(async () => {
      const displayOrder = Math.max(-1, ...sorted.map((p) => p.displayOrder)) + 1;
      const created = await api.createPipeline(type.name, {
        label,
        displayOrder,
        stages: defaultStages(type.metadata),
      });
      putPipeline(created);
      choosePipeline(created.id);
    });

  const renamePipeline = (p: Pipeline, label: string) =>
    attempt(async () => putPipeline(await api.patchPipeline(type.name, p.id, { label })));

  const reorderPipelines = (orderedIds: string[]) => {
    const patches = displayOrderPatches(sorted, orderedIds);
    const order = new Map(patches.map((p) => [p.id, p.displayOrder]));
    setPipelines((list) => list?.map((p) => ({ ...p, displayOrder: order.get(p.id) ?? p.displayOrder })));
    void attempt(async () => {
      try {
        for (const patch of patches)
          putPipeline(await api.patchPipeline(type.name, patch.id, { displayOrder: patch.displayOrder }));
      } catch (err) {
        setReload((n) => n + 1);
        throw err;
      }
    });
  };

  const archivePipeline = (p: Pipeline) =>
    void attempt(async () => {
      await api.archivePipeline(type.name, p.id);
      session.rememberArchived(`${archiveKey}.pipelines`, p.id, true);
      setPipelines((list) => list?.filter((x) => x.id !== p.id));
      setArchivedPipelines((list) => list && [...list, { id: p.id, label: p.label }]);
    });

  const restorePipeline = (id: string) =>
    void attempt(async () => {
      putPipeline(await api.patchPipeline(type.name, id, { archived: false }));
      session.rememberArchived(`${archiveKey}.pipelines`, id, false);
      setArchivedPipelines((list) => list?.filter((x) => x.id !== id));
    });

  function switchPortal(event: FormEvent) {
    event.preventDefault();
    const value = switchTo.trim();
    if (value !== '') onSwitch(value);
  }

  const state =
    pipelines === undefined || records === undefined ? 'loading' : complete ? 'ready' : 'interactive';
  return (
    <div className="app" data-board-state={state} data-emulator={emulator}>
      <header className="top">
        <h1>Stageline board</h1>
        <div className="row wrap">
          <label htmlFor={`${ids}-type`}>Object type</label>
          <select id={`${ids}-type`} value={type.name} onChange={(e) => chooseType(e.target.value)}>
            {OBJECT_TYPES.map((t) => (
              <option key={t.name} value={t.name}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
        <span className="portal">{portalId === undefined ? 'Portal …' : `Portal ${portalId}`}</span>
        <form className="row wrap" onSubmit={switchPortal}>
          <label htmlFor={`${ids}-switch`}>Other token</label>
          <input
            id={`${ids}-switch`}
            type="password"
            autoComplete="off"
            value={switchTo}
            onChange={(e) => setSwitchTo(e.target.value)}
          />
          <button type="submit" className="secondary">
            Switch portal
          </button>
        </form>
        {emulator === 'on' && <a href="#emulator">Emulator</a>}
        <a href="/docs">API docs</a>
        <button type="button" className="secondary" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      {error !== undefined && (
        <div role="alert" className="error banner">
          <span>{error}</span>
          <button
            type="button"
            className="secondary"
            onClick={() => setError(undefined)}
            aria-label="Dismiss the error"
          >
            ×
          </button>
        </div>
      )}
      <div className="layout">
        <PipelineList
          pipelines={sorted}
          selectedId={pipeline?.id}
          readOnly={type.readOnly}
          showArchived={showArchived}
          archived={archivedPipelines}
          archivedComplete={emulator === 'on'}
          onSelect={choosePipeline}
          onCreate={createPipeline}
          onRename={renamePipeline}
          onReorder={reorderPipelines}
          onArchive={archivePipeline}
          onRestore={restorePipeline}
          onHistory={(p) =>
            setHistory({ title: `pipeline ${p.label}`, load: () => api.pipelineAudit(type.name, p.id) })
          }
          onToggleArchived={setShowArchived}
        />
        <main className="main">
          {pipelines === undefined && <p>Loading pipelines…</p>}
          {pipelines !== undefined && pipeline === undefined && (
            <p>No pipelines for {type.label.toLowerCase()} yet.</p>
          )}
          {pipeline !== undefined && (
            <>
              <h2 className="board-title">
                {pipeline.label}{' '}
                {!complete && (
                  <span className="help" role="status">
                    (loading records
                    {records === undefined ? '' : `: ${records.length.toLocaleString('en-US')} so far`}…)
                  </span>
                )}
              </h2>
              <Board
                type={type}
                pipeline={pipeline}
                records={pipelineRecords}
                ownerNames={owners}
                onMoveRecord={moveRecord}
                onReorderStages={reorderStages}
                onEditStage={editStage}
                onArchiveStage={archiveStage}
                onAddStage={addStage}
                onStageHistory={stageHistory}
              />
              {showArchived && (
                <section className="archived-stages">
                  <h3>Archived stages</h3>
                  <ArchivedList
                    noun="stage"
                    items={archivedStages}
                    empty="None found."
                    onRestore={restoreStage}
                  />
                </section>
              )}
            </>
          )}
        </main>
        {history !== undefined && <History target={history} onClose={() => setHistory(undefined)} />}
      </div>
      {emulator === 'on' && (
        <EmulatorPanel api={api} portalId={portalId} onPortalChanged={reloadBoard} onError={fail} />
      )}
    </div>
  );
}
