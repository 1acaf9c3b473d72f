import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** The ordered SQL migrations of one database kind, from `migrations/<kind>/NNN_name.sql`. */
export function loadMigrations(kind: 'sqlite' | 'postgres'): Migration[] {
  // Both src/storage and dist/storage sit two levels below the package root.
  const dir = fileURLToPath(new URL(`../../migrations/${kind}/`, import.meta.url));
  return readdirSync(dir)
    .flatMap((file) => {
      const m = FILE.exec(file);
      return m ? [{ version: Number(m[1]), name: m[2]!, sql: readFileSync(dir + file, 'utf8') }] : [];
    })
    .sort((a, b) => a.version - b.version);
}
