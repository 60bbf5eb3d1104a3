import { useState } from 'react';
import type { ApiError } from '../api-error.js';
import type { ConsentStanding, PrivacyRequest, Profile } from '../api-types.js';
import { formatCount, formatDateTime } from '../format.js';
import { tabLink } from '../hash-params.js';
import type { PrivacyAccess } from '../use-privacy-access.js';
import { ApiProblem, isForbidden } from './api-problem.js';
import { ConsentStandings } from './consent-standings.js';
import { Panel } from './panel.js';
import { PrivacyRequestForm, type RequestSubject } from './privacy-request-form.js';
import { ProfileIdentities } from './profile-identities.js';
import { ProfileTimeline } from './profile-timeline.js';
import { ProfileTraits } from './profile-traits.js';
import { StatCard } from './stat-card.js';

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function formatMoney(value: number | null): string {
  return value === null ? '—' : money.format(value);
}

/** The id a privacy request about this person can name: a user id, else an anonymous id. */
export function requestSubjectOf(profile: Profile): RequestSubject | undefined {
  const userId = profile.identities.find((identity) => identity.type === 'user_id');
  if (userId) return { idType: 'userId', id: userId.value };
  const anonymousId = profile.identities.find((identity) => identity.type === 'anonymous_id');
  return anonymousId ? { idType: 'anonymousId', id: anonymousId.value } : undefined;
}

interface ProfileViewProps {
  profile: Profile;
  /** The person's consent per purpose, from the profile or the consent API; undefined while loading. */
  consents: ConsentStanding[] | undefined;
  consentError: ApiError | undefined;
  privacyAccess: PrivacyAccess;
  /** Reads the profile again (it is not re-read on a timer: every read of personal data is audited). */
  onReload: () => void;
}

/** The 360° view of one person. */
export function ProfileView({ profile, consents, consentError, privacyAccess, onReload }: ProfileViewProps) {
  const [requestOpen, setRequestOpen] = useState(false);
  const [filed, setFiled] = useState<PrivacyRequest | undefined>(undefined);
  const { computed } = profile;
  const subject = requestSubjectOf(profile);

  return (
    <div className="stack" data-testid="profile-view" data-person-id={profile.personId}>
      <Panel
        title="Person"
        testId="panel-person"
        actions={
          <span className="row-gap">
            <button
              type="button"
              className="button button-small button-ghost"
              onClick={onReload}
              data-testid="profile-reload"
            >
              Reload
            </button>
            {isForbidden(consentError) ? null : (
              <a
                className="button button-small"
                href={tabLink('consent', { person: profile.personId })}
                data-testid="profile-consent-history-link"
              >
                Consent history
              </a>
            )}
            {privacyAccess === 'yes' && subject ? (
              <button
                type="button"
                className="button button-small"
                aria-expanded={requestOpen}
                onClick={() => setRequestOpen((open) => !open)}
                data-testid="profile-privacy-request"
              >
                Privacy request…
              </button>
            ) : null}
          </span>
        }
      >
        <div className="person-head">
          <code className="person-id" data-testid="profile-person-id">
            {profile.personId}
          </code>
          <span className="muted small">
            {formatCount(profile.eventCount)} events · first seen {formatDateTime(profile.firstSeen)} · last
            seen {formatDateTime(profile.lastSeen)}
          </span>
        </div>
        {requestOpen && subject ? (
          <div className="inset">
            <PrivacyRequestForm
              subject={subject}
              testId="profile-request-form"
              onFiled={(request) => {
                setFiled(request);
                setRequestOpen(false);
              }}
            />
          </div>
        ) : null}
        {filed ? (
          <p
            className="notice small"
            role="status"
            data-testid="profile-request-filed"
            data-request-id={filed.id}
          >
            {filed.kind} request {filed.id} is {filed.status}
            {filed.status === 'open' ? `, due ${formatDateTime(filed.dueAt)}` : ''}.{' '}
            <a href={tabLink('privacy')}>Open the request queue</a>
          </p>
        ) : null}
        <h3 className="subheading">Identities</h3>
        <ProfileIdentities identities={profile.identities} />
      </Panel>
      <div className="stat-grid" data-testid="profile-computed">
        <StatCard
          label="Orders"
          testId="computed-order-count"
          rawValue={computed.orderCount}
          value={formatCount(computed.orderCount)}
        />
        <StatCard
          label="Revenue"
          testId="computed-revenue"
          rawValue={computed.revenue ?? undefined}
          value={formatMoney(computed.revenue)}
        />
        <StatCard
          label="Average order"
          testId="computed-aov"
          rawValue={computed.averageOrderValue ?? undefined}
          value={formatMoney(computed.averageOrderValue)}
        />
        <StatCard
          label="Last order"
          testId="computed-last-order"
          rawValue={undefined}
          value={formatDateTime(computed.lastOrderAt)}
        />
        <StatCard
          label="Favourite category"
          testId="computed-favourite-category"
          rawValue={undefined}
          value={computed.favouriteCategory ?? '—'}
        />
      </div>
      <div className="two-columns">
        <Panel title="Traits" testId="panel-traits">
          {profile.hidden.length > 0 ? (
            <p className="notice small" data-testid="profile-hidden-notice">
              {profile.hidden.length === 1 ? 'One trait is' : `${profile.hidden.length} traits are`} personal
              data your key's role may not read: {profile.hidden.join(', ')}.
            </p>
          ) : null}
          <ProfileTraits
            traits={profile.traits}
            updatedAt={profile.traitsUpdatedAt}
            hidden={profile.hidden}
          />
        </Panel>
        <Panel title="Consent" testId="panel-profile-consent">
          {consents ? (
            <ConsentStandings standings={consents} />
          ) : consentError ? (
            <ApiProblem
              error={consentError}
              action="read this person's consent"
              testId="profile-consent-error"
            />
          ) : (
            <p className="loading">Loading…</p>
          )}
        </Panel>
      </div>
      <Panel title="Recent events" testId="panel-profile-events">
        <ProfileTimeline events={profile.recentEvents} />
      </Panel>
    </div>
  );
}
