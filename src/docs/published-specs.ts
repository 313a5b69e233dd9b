import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { asyncApiWithServer, openApiWithServer } from '../domain/public-url.ts';

type JsonObject = Record<string, unknown>;

export type SpecName = 'openapi' | 'asyncapi';
export type SpecFormat = 'json' | 'yaml';

/**
 * The contracts as the server publishes them: the bundled documents of generated/ (no `$ref`
 * outside themselves; scripts/bundle-asyncapi.ts) with `servers` naming the public URL, as JSON or YAML. Each rendering is
 * kept for the last base URL asked (it only changes when the listen port does, e.g. in tests).
 */
export interface PublishedSpecs {
  render(name: SpecName, format: SpecFormat, baseUrl: string): string;
}

export async function loadPublishedSpecs(projectRoot: string): Promise<PublishedSpecs> {
  const load = async (file: string): Promise<JsonObject> => {
    // The "DO NOT EDIT" marker is for the repository, not for the document's readers.
    const { 'x-generated': _marker, ...document } = JSON.parse(await readFile(path.join(projectRoot, file), 'utf8')) as JsonObject;
    return document;
  };
  const documents: Record<SpecName, JsonObject> = {
    openapi: await load('generated/openapi.bundled.json'),
    asyncapi: await load('generated/asyncapi.published.json'),
  };
  const withServer = { openapi: openApiWithServer, asyncapi: asyncApiWithServer };
  let cachedBase: string | undefined;
  const cache = new Map<string, string>();
  return {
    render(name, format, baseUrl) {
      if (baseUrl !== cachedBase) {
        cache.clear();
        cachedBase = baseUrl;
      }
      const key = `${name}.${format}`;
      let text = cache.get(key);
      if (text === undefined) {
        const document = withServer[name](documents[name], baseUrl);
        // aliasDuplicateObjects: false — the AsyncAPI document inlines shared schemas many times;
        // YAML anchors would be correct but surprise many readers.
        text = format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : YAML.stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
        cache.set(key, text);
      }
      return text;
    },
  };
}
