/**
 * Guardia's version, as package.json says (a test keeps the two equal). A constant rather than a read of
 * package.json at run time, because the server also runs bundled (the crash tests), where that file is elsewhere.
 */
export const GUARDIA_VERSION = '0.1.0';
