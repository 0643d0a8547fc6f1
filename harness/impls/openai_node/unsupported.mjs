// A command the SDK offers no way to do: answered `failed` with `unsupported: true`
// (schemas/driver.schema.json), so the case ends UNSUPPORTED with the message as its reason.
export class Unsupported extends Error {
  constructor(message) {
    super(message);
    this.name = 'Unsupported';
  }
}
