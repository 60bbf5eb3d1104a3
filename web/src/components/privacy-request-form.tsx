import { type FormEvent, useId, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { NewPrivacyRequest, PrivacyRequest, PrivacyRequestKind } from '../api-types.js';
import { CONSENT_PURPOSES, purposeLabel } from '../consent-labels.js';
import { ApiProblem } from './api-problem.js';

export type SubjectIdType = 'userId' | 'anonymousId' | 'email';

export interface RequestSubject {
  idType: SubjectIdType;
  id: string;
}

const KINDS: { value: PrivacyRequestKind; label: string }[] = [
  { value: 'access', label: 'Access (export their data)' },
  { value: 'erase', label: 'Erasure (delete their data)' },
  { value: 'object', label: 'Objection (stop a purpose)' },
];

const ID_TYPES: { value: SubjectIdType; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'userId', label: 'User id' },
  { value: 'anonymousId', label: 'Anonymous id' },
];

interface PrivacyRequestFormProps {
  /** A known subject (from a profile): the id fields are then fixed. */
  subject?: RequestSubject;
  onFiled: (request: PrivacyRequest) => void;
  testId?: string;
}

/** Files an access, erasure or objection request, queued for later or carried out at once. */
export function PrivacyRequestForm({
  subject,
  onFiled,
  testId = 'privacy-request-form',
}: PrivacyRequestFormProps) {
  const api = useApi();
  const id = useId();
  const [kind, setKind] = useState<PrivacyRequestKind>('access');
  const [idType, setIdType] = useState<SubjectIdType>(subject?.idType ?? 'email');
  const [idValue, setIdValue] = useState(subject?.id ?? '');
  const [purpose, setPurpose] = useState<string>('advertising');
  const [run, setRun] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  const irreversible = kind === 'erase' && run;

  const send = async () => {
    const body: NewPrivacyRequest = { kind, run };
    body[idType] = idValue.trim();
    if (kind === 'object') body.purpose = purpose;
    setBusy(true);
    setError(undefined);
    try {
      const { request } = await api.filePrivacyRequest(body);
      setConfirming(false);
      if (!subject) setIdValue('');
      onFiled(request);
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!idValue.trim()) return;
    if (irreversible && !confirming) {
      setConfirming(true);
      return;
    }
    void send();
  };

  return (
    <form
      className="stack stack-tight"
      onSubmit={submit}
      aria-label="File a privacy request"
      data-testid={testId}
    >
      <div className="form-row">
        <label className="field" htmlFor={`${id}-kind`}>
          <span>Request</span>
          <select
            id={`${id}-kind`}
            value={kind}
            onChange={(event) => {
              setKind(event.target.value as PrivacyRequestKind);
              setConfirming(false);
            }}
            data-testid="request-kind"
          >
            {KINDS.map((item) => (
              <option key={item.value} value={item.value}>
                {item.label}
              </option>
            ))}
          </select>
        </label>
        {subject ? (
          <div className="field">
            <span>Subject</span>
            <code className="subject-fixed" data-testid="request-subject">
              {ID_TYPES.find((item) => item.value === subject.idType)?.label}: {subject.id}
            </code>
          </div>
        ) : (
          <>
            <label className="field" htmlFor={`${id}-id-type`}>
              <span>Id type</span>
              <select
                id={`${id}-id-type`}
                value={idType}
                onChange={(event) => setIdType(event.target.value as SubjectIdType)}
                data-testid="request-id-type"
              >
                {ID_TYPES.map((item) => (
                  <option key={item.value} value={item.value}>
                    {item.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field field-grow" htmlFor={`${id}-id`}>
              <span>Id</span>
              <input
                id={`${id}-id`}
                value={idValue}
                onChange={(event) => setIdValue(event.target.value)}
                autoComplete="off"
                required
                data-testid="request-id"
              />
            </label>
          </>
        )}
        {kind === 'object' ? (
          <label className="field" htmlFor={`${id}-purpose`}>
            <span>Purpose objected to</span>
            <select
              id={`${id}-purpose`}
              value={purpose}
              onChange={(event) => setPurpose(event.target.value)}
              data-testid="request-purpose"
            >
              {CONSENT_PURPOSES.map((item) => (
                <option key={item} value={item}>
                  {purposeLabel(item)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <div className="form-row">
        <fieldset className="radio-row" aria-label="When to carry it out">
          <label>
            <input
              type="radio"
              name={`${id}-run`}
              checked={!run}
              onChange={() => {
                setRun(false);
                setConfirming(false);
              }}
              data-testid="request-queue"
            />{' '}
            Queue it (carry out from the queue)
          </label>
          <label>
            <input
              type="radio"
              name={`${id}-run`}
              checked={run}
              onChange={() => setRun(true)}
              data-testid="request-run-now"
            />{' '}
            Carry out now
          </label>
        </fieldset>
        {confirming ? (
          <span className="row-gap">
            <button
              type="submit"
              className="button button-danger"
              disabled={busy}
              data-testid="request-submit-confirm"
            >
              Erase this person's data now
            </button>
            <button type="button" className="button button-ghost" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button
            type="submit"
            className="button button-primary"
            disabled={busy}
            data-testid="request-submit"
          >
            {busy ? 'Filing…' : run ? 'File and carry out' : 'File request'}
          </button>
        )}
      </div>
      {confirming ? (
        <p className="notice small" role="status">
          Erasure cannot be undone. Check the subject before you confirm.
        </p>
      ) : null}
      {error ? <ApiProblem error={error} action="file privacy requests" testId="request-error" /> : null}
    </form>
  );
}
