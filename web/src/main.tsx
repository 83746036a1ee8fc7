/** The web view: a hash router over the four pages, with the transients' counts in the header. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CountsBody } from '../../lib/web/schemas';
import { api } from './api';
import { DeadLettersPage } from './dead-letters';
import { Grid } from './grid';
import { usePoll } from './hooks';
import { RunnersPage } from './runners';
import { TransientPage } from './transient';
import './style.css';

type Route = { page: 'grid' } | { page: 'transient'; name: string } | { page: 'runners' } | { page: 'dead-letters'; task?: string };

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

const routeOf = (hash: string): Route => {
  const [, first, second] = hash.replace(/^#/, '').split('/');
  if (first === 'transients' && second) return { page: 'transient', name: decode(second) };
  if (first === 'runners') return { page: 'runners' };
  if (first === 'dead-letters') return second ? { page: 'dead-letters', task: decode(second) } : { page: 'dead-letters' };
  return { page: 'grid' };
};

const Counts = () => {
  const counts = usePoll('counts', (signal) => api<CountsBody>('GET', '/counts', { signal }));
  if (!counts.data) return null;
  const { total, waiting, processing, blocked, completed } = counts.data;
  return (
    <span class="counts" data-testid="counts">
      {total} transients · {waiting} waiting · {processing} processing · {blocked} blocked · {completed} completed
    </span>
  );
};

const App = () => {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  const tab = (page: Route['page'], href: string, label: string) => (
    <a href={href} class={route.page === page || (page === 'grid' && route.page === 'transient') ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <strong>Blast task runners</strong>
        <nav>
          {tab('grid', '#/', 'Transients')}
          {tab('runners', '#/runners', 'Runners')}
          {tab('dead-letters', '#/dead-letters', 'Dead letters')}
        </nav>
        <Counts />
      </header>
      <main>
        {route.page === 'grid' && <Grid />}
        {route.page === 'transient' && <TransientPage name={route.name} key={route.name} />}
        {route.page === 'runners' && <RunnersPage />}
        {route.page === 'dead-letters' && <DeadLettersPage {...(route.task ? { task: route.task } : {})} key={route.task ?? ''} />}
      </main>
    </>
  );
};

const root = document.getElementById('app');
if (root) render(<App />, root);
