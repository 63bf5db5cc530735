/**
 * Namespaces → `kns.<namespace>` and service accounts → `ksa.<namespace>.<sa>` Profiles:
 * created and kept equal to the Kubernetes object's labels, deleted with it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ConflictError, NotFoundError, type Profile } from '@tricolor/datastore';
import { namespaceProfile, profileOwner, sameProfile, serviceAccountProfile } from '../convert.js';
import type { WatchedInformer } from '../informer.js';
import { Controller, type ControllerDeps } from './base.js';

interface ProfileKind<T extends KubernetesObject> {
  name: 'namespace' | 'serviceaccount';
  owner: 'Namespace' | 'ServiceAccount';
  keyOf(o: T): string;
  lookup(key: string): T | undefined;
  toProfile(o: T): Profile;
  profileName(key: string): string;
}

export class ProfileController<T extends KubernetesObject> extends Controller {
  readonly name: string;

  constructor(
    deps: ControllerDeps,
    private readonly informer: WatchedInformer<T>,
    private readonly kind: ProfileKind<T>,
  ) {
    super(deps);
    this.name = kind.name;
  }

  async start(): Promise<void> {
    for (const verb of ['add', 'update', 'delete'] as const)
      this.informer.on(verb, (o) => this.enqueue(this.kind.keyOf(o)));
    await this.resync();
  }

  async resync(): Promise<void> {
    for (const o of this.informer.list()) this.enqueue(this.kind.keyOf(o));
    for (const p of (await this.deps.ds.list('Profile')).items) {
      const owner = profileOwner(p.metadata.name);
      if (owner?.kind === this.kind.owner && !this.kind.lookup(owner.key)) this.enqueue(owner.key);
    }
  }

  protected async reconcile(key: string): Promise<void> {
    const { ds } = this.deps;
    const name = this.kind.profileName(key);
    const obj = this.kind.lookup(key);
    const cur = await ds.get('Profile', name);
    if (!obj) {
      if (!cur) return;
      try {
        await ds.delete('Profile', name, undefined, { resourceVersion: cur.metadata.resourceVersion });
      } catch (e) {
        if (e instanceof NotFoundError) return;
        throw e;
      }
      this.wrote('delete');
      this.deps.metrics.orphansRemoved.inc({ kind: 'Profile' });
      return;
    }
    const want = this.kind.toProfile(obj);
    if (cur && sameProfile(cur, want)) return;
    if (cur) {
      try {
        await ds.update({
          ...want,
          metadata: { ...cur.metadata, ...want.metadata, resourceVersion: cur.metadata.resourceVersion },
        });
      } catch (e) {
        if (e instanceof ConflictError) throw new Error(`profile ${name} changed meanwhile; retrying`);
        throw e;
      }
      this.wrote('update');
    } else {
      await ds.create(want);
      this.wrote('create');
    }
  }
}

type Meta = KubernetesObject & {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};

export const namespaceProfiles = (deps: ControllerDeps, informer: WatchedInformer<Meta>) =>
  new ProfileController(deps, informer, {
    name: 'namespace',
    owner: 'Namespace',
    keyOf: (o) => o.metadata?.name ?? '',
    lookup: (key) => informer.get(key),
    toProfile: namespaceProfile,
    profileName: (key) => namespaceProfile({ metadata: { name: key } }).metadata.name,
  });

export const serviceAccountProfiles = (deps: ControllerDeps, informer: WatchedInformer<Meta>) =>
  new ProfileController(deps, informer, {
    name: 'serviceaccount',
    owner: 'ServiceAccount',
    keyOf: (o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`,
    lookup: (key) => {
      const [ns, name] = key.split('/');
      return informer.get(name!, ns);
    },
    toProfile: serviceAccountProfile,
    profileName: (key) => {
      const [ns, name] = key.split('/');
      return serviceAccountProfile({ metadata: { namespace: ns, name } }).metadata.name;
    },
  });
