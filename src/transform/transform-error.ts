/** A transform setting that cannot work with this input's format; src/pipeline.ts reports it as a configuration error (exit 2). */
export class TransformError extends Error {
  override name = 'TransformError';
  /** The setting at fault, as written in YAML: `inputs[0].transforms.filter.drop_when`. */
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.setting = setting;
  }
}
