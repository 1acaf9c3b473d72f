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
