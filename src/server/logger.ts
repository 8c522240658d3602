/**
 * The server's logger: JSON lines (pino) with the redaction every process uses, so tests that capture logs see
 * exactly what `guardia serve` would print.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'guardia' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
