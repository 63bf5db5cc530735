/** One problem with one field of a resource, e.g. `spec.cidr: "10.0.0.0/33" is not a valid CIDR`. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** A resource failed validation; `issues` names every offending field. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly kind: string,
    readonly issues: FieldIssue[],
  ) {
    super(`invalid ${kind}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** A compare-and-swap write lost: the stored revision was not the one expected. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    readonly key: string,
    readonly expectedRevision: string | undefined,
  ) {
    super(
      `conflict writing ${key}: it changed since revision ${expectedRevision ?? '(none: it already exists)'}`,
    );
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly key: string) {
    super(`not found: ${key}`);
  }
}

export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
  constructor(readonly key: string) {
    super(`already exists: ${key}`);
  }
}
