// The JSON shapes Stageline sends on the wire (before HubSpot's SDK turns dates into Date objects),
// shared by the HTTP tests (test/http) and the end-to-end SDK tests (test/e2e).

export interface WireStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  writePermissions?: string;
}

export interface WirePipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: WireStage[];
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface WireAudit {
  portalId: number;
  identifier: string;
  action: string;
  timestamp: string;
  message: string;
  rawObject: string;
  fromUserId: number;
}

/** The `{results: [...]}` envelope of every list answer (no paging). */
export interface WireCollection<T> {
  results: T[];
}

/** HubSpot's error envelope. */
export interface WireError {
  status: string;
  message: string;
  correlationId: string;
  category: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  links?: Record<string, string>;
  errors?: Array<{
    message: string;
    in?: string;
    code?: string;
    subCategory?: string;
    context?: Record<string, string[]>;
  }>;
}

/**
 * An audit entry's `rawObject`, parsed: HubSpot's internal model of a stage (FIDELITY §7, the
 * seed guide's audit example), with epoch-millisecond times.
 */
export interface RawStage {
  displayOrder: number;
  portalId: number;
  objectTypeId: string;
  pipelineId: string;
  stageId: string;
  label: string;
  metadata: Record<string, string>;
  maxVisibleVersion: null;
  createdBy: number | null;
  updatedBy: number | null;
  createdAt: number;
  updatedAt: number;
  writePermissions: string;
  internalWriteOnly: boolean;
  active: boolean;
  isApprovalStage: null;
}

/** The same for a pipeline: its live stages, and a version that rises on every change. */
export interface RawPipeline {
  displayOrder: number;
  pipelineId: string;
  portalId: number;
  objectType: string;
  objectTypeId: string;
  version: number;
  label: string;
  active: boolean;
  stages: RawStage[];
  createdBy: number | null;
  updatedBy: number | null;
  createdAt: number;
  updatedAt: number;
  limitExempt: boolean;
  autoCloseDateEnabled: boolean;
  clearCloseDateWhenMovingClosedToOpen: boolean;
  permission: null;
  createStageId: null;
  inactiveDefaultPipeline: boolean;
  default: boolean;
}
