/**
 * The read-only properties API: the catalogue of src/domain/properties.ts read against the
 * portal's live pipelines and owners.
 */
import { notFound } from '../domain/errors.js';
import { isLive } from '../domain/model.js';
import type { Actor } from '../domain/model.js';
import type { ObjectType } from '../domain/object-types.js';
import type { Store } from '../domain/ports.js';
import { propertyCatalogue, propertyGroups } from '../domain/properties.js';
import type { PropertyGroupView, PropertyView } from '../domain/properties.js';
import type { AccountService } from './account-service.js';

export class PropertyService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
  ) {}

  /** Every property of the type; `archived` lists archived ones, of which Stageline has none. */
  async list(actor: Actor, type: ObjectType, archived: boolean): Promise<PropertyView[]> {
    if (archived) return [];
    const pipelines = await this.store.read((repo) => repo.listPipelines(actor.portalId, type.key));
    return propertyCatalogue(type, {
      pipelines: pipelines.map((p) => ({ ...p, stages: p.stages.filter(isLive) })),
      owners: this.accounts.owners(actor),
    });
  }

  async get(actor: Actor, type: ObjectType, name: string, archived: boolean): Promise<PropertyView> {
    const found = (await this.list(actor, type, archived)).find((p) => p.name === name);
    if (found === undefined) throw notFound(`Property ${name} does not exist on object type ${type.key}`);
    return found;
  }

  groups(type: ObjectType): PropertyGroupView[] {
    return propertyGroups(type);
  }

  group(type: ObjectType, name: string): PropertyGroupView {
    const found = propertyGroups(type).find((g) => g.name === name);
    if (found === undefined)
      throw notFound(`Property group ${name} does not exist on object type ${type.key}`);
    return found;
  }
}
