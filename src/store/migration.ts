/** One step of an engine's schema history: statements applied once, in order, and recorded by id. */
export interface Migration {
  readonly id: string;
  readonly statements: readonly string[];
}
