import t from 'tap';
import { RouteMethods } from '../../src/domain/route-methods.ts';

t.test('RouteMethods: the methods a path supports; none for an unknown path', async (t) => {
  const routes = new RouteMethods();
  routes.add('/api/v1/users/@me', ['GET', 'PATCH', 'DELETE']);
  routes.add('/api/v1/users/:user_id', 'GET');
  routes.add('/api/v1/users/:user_id', 'PATCH');
  routes.add('/api/v1/auth/login', 'POST');
  routes.add('/api/v1/channels/:channel_id/messages/:message_id', ['GET', 'PATCH', 'DELETE']);
  routes.add('/files/:name(^\\d+).png', 'GET');
  routes.add('/static/*', 'GET');
  routes.add('/time::now', 'GET');

  const table: Array<[path: string, allowed: string[]]> = [
    ['/api/v1/users/@me', ['DELETE', 'GET', 'HEAD', 'PATCH']], // GET implies HEAD
    ['/api/v1/users/123', ['GET', 'HEAD', 'PATCH']], // two registrations of one URL merge
    ['/api/v1/auth/login', ['POST']],
    ['/api/v1/channels/1/messages/2', ['DELETE', 'GET', 'HEAD', 'PATCH']],
    ['/files/42.png', ['GET', 'HEAD']],
    ['/static/a/b/c.css', ['GET', 'HEAD']],
    ['/time:now', ['GET', 'HEAD']],
    ['/api/v1/auth/login/', []], // a trailing slash is another path
    ['/api/v1/users/', []], // a parameter is never empty
    ['/api/v1/users/1/2', []], // nor more than one segment
    ['/api/v1/nothing', []],
    ['/', []],
    ['/api/v1/auth/loginX', []],
    ['/api.v1/auth/login', []], // a dot in a route is a literal dot
  ];
  for (const [path, allowed] of table) t.same(routes.allowed(path), allowed, path);
});

t.test('RouteMethods: a catch-all route adds its methods to known paths only', async (t) => {
  const routes = new RouteMethods();
  routes.add('/api/v1/auth/login', 'POST');
  routes.add('*', 'OPTIONS');
  t.same(routes.allowed('/api/v1/auth/login'), ['OPTIONS', 'POST']);
  t.same(routes.allowed('/unknown'), [], 'the catch-all makes no path known');
});
