"""The service layer: Callcraft's commands and look-ups over the event store.

Returns ids and plain values, never aggregates. Time comes in as ``now``; the event
store (the ``eventsourcing`` library) is chosen by the ``env`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import suppress
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from itertools import count
from secrets import token_urlsafe
from threading import Lock
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent, Transcoding

from domain.accounts import Role, User
from domain.agents import Agent
from domain.exceptions import (
    AlreadyExists,
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidRulebook,
    UnknownAgent,
    UnknownRecording,
    UnknownTeam,
    UnknownToken,
    UnknownUser,
)
from domain.facts import RecognitionKind
from domain.identity import agent_id_for, recording_id_for, rulebook_id_for, user_id_for
from domain.kudos import KudosAllowance
from domain.organisation import Team
from domain.principals import TokenScope
from domain.publications import RulebookPublication
from domain.recordings import (
    CLOCK_SKEW_ALLOWANCE,
    Recording,
    RecordRecognition,
    fingerprint,
    recognised_event,
    recognition_fields,
    validate_agents,
    validate_moment,
)
from domain.rulebook import (
    Publication,
    Rulebook,
    RulebookHistory,
    load_default_rulebook,
    parse_rulebook,
    rulebook_to_data,
)
from domain.text import clean_line
from domain.tokens import ApiToken, hash_secret, token_id_for

MAX_BATCH = 1000
ACTOR_MAX_LENGTH = 100
MAX_ATTEMPTS = 8
REMEMBERED = 20_000  # allowances and keyed recordings a process remembers (each)
TOKEN_SECRET_PREFIX = "cc_"  # noqa: S105 - a prefix, not a secret
TOKEN_SECRET_BYTES = 32
TOKEN_SECRET_MAX_LENGTH = 200
DEFAULT_RULEBOOK_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)

EVENT_CLASS_FOR_KIND: Mapping[RecognitionKind, type[Recording.Recognised]] = {
    RecognitionKind.FEEDBACK_GIVEN: Recording.FeedbackGiven,
    RecognitionKind.TRAINING_COMPLETED: Recording.TrainingCompleted,
    RecognitionKind.TOUGH_CALL_HANDLED_WITH_GRACE: Recording.ToughCallHandledWithGrace,
    RecognitionKind.INITIATIVE_TAKEN: Recording.InitiativeTaken,
    RecognitionKind.KUDOS_GIVEN: Recording.KudosGiven,
}


T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class RecordingOutcome:
    recording_id: UUID
    created: bool


@dataclass(frozen=True)
class AgentRecord:
    id: UUID
    handle: str
    name: str
    team_id: UUID
    enrolled_at: datetime
    departed_at: datetime | None


@dataclass(frozen=True)
class UserRecord:
    id: UUID
    username: str
    display_name: str
    password_hash: str
    agent_id: UUID | None
    roles: frozenset[Role]
    disabled: bool


@dataclass(frozen=True)
class TeamRecord:
    id: UUID
    name: str
    supervisors: tuple[UUID, ...]


@dataclass(frozen=True)
class RecordingRecord:
    id: UUID
    agent_id: UUID
    kind: RecognitionKind
    recorded_by: str
    retracted: bool


@dataclass(frozen=True)
class TokenRecord:
    id: UUID
    name: str
    scopes: frozenset[TokenScope]
    recording_identity: str
    issued_by: str
    revoked: bool


@dataclass
class PreparedRecordings:
    """What a batch of commands would store: one outcome per command (None where it was
    refused), the events in order, and ``decided_on``: the streams it read that another writer
    may change without colliding with these events — the agents, and the next rulebook (not
    yet published: version 0) — each at the version it was decided on."""

    outcomes: list[RecordingOutcome | None]
    events: list[Any] = field(default_factory=list)
    decided_on: dict[UUID, int] = field(default_factory=dict)
    # What the store holds once the events are in: the allowances they use, as they will
    # be, and the keyed recordings' hashed fingerprints (remembered after the commit).
    allowances: dict[UUID, KudosAllowance] = field(default_factory=dict)
    recordings: dict[UUID, int] = field(default_factory=dict)


class PendingRecordings:
    """What earlier batches of one import decided and the store does not hold yet: the
    fingerprints (hashed) of the recordings, and the kudos allowances as they will be.

    Held in memory here (one batch's worth, for ``record_many``); an import over a whole
    file keeps it elsewhere so that its memory does not grow with the file.
    """

    def __init__(self) -> None:
        self._recordings: dict[UUID, int] = {}
        self._allowances: dict[UUID, KudosAllowance] = {}

    def recordings_among(self, ids: Collection[UUID]) -> dict[UUID, int]:
        return {i: self._recordings[i] for i in ids if i in self._recordings}

    def allowances_among(self, ids: Collection[UUID]) -> dict[UUID, KudosAllowance]:
        return {i: self._allowances[i] for i in ids if i in self._allowances}

    def remember(
        self, recordings: Mapping[UUID, int], allowances: Mapping[UUID, KudosAllowance]
    ) -> None:
        self._recordings.update(recordings)
        self._allowances.update(allowances)


@dataclass
class _BatchState:
    """What a batch decides on: the store's state and the pending one, merged."""

    rulebooks: RulebookHistory
    rulebooks_published: int  # how many of them are in the store (the shipped default is not)
    agents: dict[UUID, Agent | None] = field(default_factory=dict)
    recordings: dict[UUID, int] = field(default_factory=dict)  # id -> hashed fingerprint
    allowances: dict[UUID, KudosAllowance] = field(default_factory=dict)
    new_recordings: dict[UUID, int] = field(default_factory=dict)
    touched_allowances: dict[UUID, KudosAllowance] = field(default_factory=dict)


def _cached(cache: Any, aggregate_id: UUID) -> Agent | None:
    if cache is None:
        return None
    try:
        found = cache.get(aggregate_id)
    except KeyError:
        return None
    return found if isinstance(found, Agent) else None


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _require_actor(actor: object, field: str) -> str:
    """Who did it: a username or an integration's name, one visible line."""
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidInput(f"{field} must name who does this", field=field)
    return clean_line(actor, field=field, max_length=ACTOR_MAX_LENGTH)


def _in_batch(index: int, size: int, error: DomainError) -> DomainError:
    if size == 1:
        return error
    field = f"items[{index}]" + (f".{error.field}" if error.field else "")
    return type(error)(f"item {index + 1}: {error.message}", field=field)


class Callcraft(Application[UUID]):
    """Records what agents did well, and everything around it, as events."""

    name = "Callcraft"
    snapshotting_intervals: ClassVar[dict[Any, int]] = {
        Agent: 50,
        User: 50,
        Team: 50,
    }

    def __init__(self, env: Mapping[str, str] | None = None, *, timezone: tzinfo = UTC) -> None:
        super().__init__(env=env)
        self.timezone = timezone
        self._rulebook_cache: list[tuple[datetime, Rulebook]] = []
        self._rulebook_cache_lock = Lock()
        self._rulebook_history: tuple[int, RulebookHistory] | None = None  # of the cache
        # What this process's recordings wrote or read: a giver's allowance of a day (its
        # copy here is never changed), and a keyed recording's hashed fingerprint (its
        # first event never changes). See ``_read_state`` for when they are trusted.
        self._allowance_cache: LRUCache[UUID, KudosAllowance] = LRUCache(maxsize=REMEMBERED)
        self._recording_cache: LRUCache[UUID, int] = LRUCache(maxsize=REMEMBERED)
        # Deciding on what this process remembers is safe only when the append itself checks
        # the streams decided on: the library's own recorders check versions alone.
        self._append_checks_streams = hasattr(self.recorder, "insert_events_unless_changed")

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- helpers -------------------------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID, missing: DomainError) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(aggregate, cls):
            raise missing
        return aggregate

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run a read-decide-save attempt again when another writer got there first."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except IntegrityError:
                continue
        raise Conflict("the record is busy: another change kept overlapping; try again")

    def _agent(self, agent_id: UUID, *, for_reading: bool = False) -> Agent:
        """``for_reading``: the caller will not change it, so the cached copy is shared."""
        missing = UnknownAgent(f"no agent with id {agent_id}")
        try:
            agent: Aggregate = self.repository.get(agent_id, deepcopy_from_cache=not for_reading)
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(agent, Agent):
            raise missing
        return agent

    # --- rulebooks -----------------------------------------------------------------------

    def rulebooks(self) -> RulebookHistory:
        """Every published rulebook (cached; versions only grow).

        Before anything is published, the shipped default applies; every entry point calls
        ``ensure_default_rulebook`` so that the log itself says which rules applied.
        """
        published = self._published_rulebooks()
        if not published:
            return RulebookHistory.default()
        return RulebookHistory(tuple(Publication(e, r) for e, r in published))

    def _published_rulebooks(self) -> list[tuple[datetime, Rulebook]]:
        # One thread at a time: threads filling the cache at once would each append version 1.
        with self._rulebook_cache_lock:
            version = len(self._rulebook_cache) + 1
            while True:
                try:
                    publication: Aggregate = self.repository.get(rulebook_id_for(version))
                except AggregateNotFoundError:
                    break
                assert isinstance(publication, RulebookPublication)
                self._rulebook_cache.append(
                    (publication.effective_from, parse_rulebook(publication.rules))
                )
                version += 1
            return list(self._rulebook_cache)

    def publish_rulebook(
        self,
        rules: Mapping[str, Any],
        *,
        effective_from: datetime,
        published_by: str,
        now: datetime,
    ) -> int:
        """Publish a new rulebook version; it applies to what occurs from ``effective_from``."""
        rulebook = parse_rulebook(rules)
        published = self._published_rulebooks()
        expected = len(published) + 1
        if rulebook.version != expected:
            raise InvalidRulebook(f"the next rulebook version must be {expected}", field="version")
        if effective_from.tzinfo is None:
            raise InvalidRulebook("effective_from needs a time zone", field="effective_from")
        if effective_from > now + CLOCK_SKEW_ALLOWANCE:
            # Levels and badge thresholds follow the newest rulebook, so a rulebook published
            # today for next month would change them today: publish it when it starts.
            raise InvalidRulebook(
                "a rulebook takes effect when it is published: effective_from cannot be "
                "in the future",
                field="effective_from",
            )
        if published:
            if effective_from < now - CLOCK_SKEW_ALLOWANCE:
                raise InvalidRulebook(
                    "a rulebook cannot apply retroactively: what was earned stays earned",
                    field="effective_from",
                )
            if effective_from < published[-1][0]:
                raise InvalidRulebook(
                    "effective_from is before the previous rulebook's", field="effective_from"
                )
        publication = RulebookPublication(
            version=rulebook.version,
            effective_from=effective_from,
            rules=rulebook_to_data(rulebook),
            published_by=published_by,
        )
        try:
            self.save(publication)
        except IntegrityError:
            raise AlreadyExists(
                f"rulebook version {rulebook.version} is already published"
            ) from None
        return rulebook.version

    def ensure_default_rulebook(self, *, now: datetime) -> None:
        """Publish the shipped rulebook as version 1 when the store has none yet."""
        if self._published_rulebooks():
            return
        with suppress(AlreadyExists):  # another process published it first
            self.publish_rulebook(
                rulebook_to_data(load_default_rulebook()),
                effective_from=DEFAULT_RULEBOOK_EFFECTIVE_FROM,
                published_by="system",
                now=now,
            )

    # --- organisation and accounts -------------------------------------------------------

    def form_team(self, *, name: str, formed_by: str) -> UUID:
        team = Team.form(name=name, formed_by=formed_by)
        try:
            self.save(team)
        except IntegrityError:
            raise AlreadyExists(
                f"a team called {team.name!r} exists already", field="name"
            ) from None
        return team.id

    def team(self, team_id: UUID) -> TeamRecord:
        team = self._get(Team, team_id, UnknownTeam(f"no team with id {team_id}"))
        return TeamRecord(id=team.id, name=team.name, supervisors=tuple(team.supervisors))

    def assign_supervisor(self, *, team_id: UUID, user_id: UUID, assigned_by: str) -> None:
        self.user(user_id)

        def attempt() -> None:
            team = self._get(Team, team_id, UnknownTeam(f"no team with id {team_id}"))
            team.assign_supervisor(user_id=user_id, assigned_by=assigned_by)
            self.save(team)

        self._retrying(attempt)

    def register_user(
        self,
        *,
        username: str,
        display_name: str,
        password_hash: str,
        agent_id: UUID | None = None,
        registered_by: str,
    ) -> UUID:
        if agent_id is not None:
            self._agent(agent_id)
        user = User.register(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            agent_id=agent_id,
            registered_by=registered_by,
        )
        try:
            self.save(user)
        except IntegrityError:
            raise AlreadyExists(
                f"the username {user.username!r} is taken", field="username"
            ) from None
        return user.id

    def _change_user(self, user_id: UUID, change: Callable[[User], None]) -> None:
        def attempt() -> None:
            user = self._get(User, user_id, UnknownUser(f"no user with id {user_id}"))
            change(user)
            self.save(user)

        self._retrying(attempt)

    def grant_role(self, *, user_id: UUID, role: Role, granted_by: str) -> None:
        self._change_user(user_id, lambda u: u.grant(role=role, granted_by=granted_by))

    def revoke_role(self, *, user_id: UUID, role: Role, revoked_by: str) -> None:
        self._change_user(user_id, lambda u: u.revoke(role=role, revoked_by=revoked_by))

    def disable_user(self, *, user_id: UUID, disabled_by: str) -> None:
        self._change_user(user_id, lambda u: u.disable(disabled_by=disabled_by))

    def change_password(self, *, user_id: UUID, password_hash: str, changed_by: str) -> None:
        self._change_user(
            user_id, lambda u: u.change_password(password_hash=password_hash, changed_by=changed_by)
        )

    def user(self, user_id: UUID) -> UserRecord:
        user = self._get(User, user_id, UnknownUser(f"no user with id {user_id}"))
        return UserRecord(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            password_hash=user.password_hash,
            agent_id=user.agent_id,
            roles=frozenset(Role(r) for r in user.roles),
            disabled=user.disabled,
        )

    def user_named(self, username: str) -> UserRecord:
        try:
            return self.user(user_id_for(username))
        except UnknownUser:
            raise UnknownUser(f"no user called {username!r}") from None

    # --- API tokens ----------------------------------------------------------------------

    def issue_token(
        self,
        *,
        name: str,
        scopes: object,
        recording_identity: str | None = None,
        issued_by: str,
    ) -> tuple[UUID, str]:
        """A new API token: its id and its secret (shown once; only its hash is kept)."""
        _require_actor(issued_by, "issued_by")
        secret = TOKEN_SECRET_PREFIX + token_urlsafe(TOKEN_SECRET_BYTES)
        token = ApiToken.issue(
            name=name,
            token_hash=hash_secret(secret),
            scopes=scopes,
            recording_identity=recording_identity,
            issued_by=issued_by,
        )
        self.save(token)
        return token.id, secret

    def revoke_token(self, *, token_id: UUID, revoked_by: str) -> None:
        _require_actor(revoked_by, "revoked_by")

        def attempt() -> None:
            token = self._get(ApiToken, token_id, UnknownToken(f"no API token with id {token_id}"))
            token.revoke(revoked_by=revoked_by)
            self.save(token)

        self._retrying(attempt)

    def token(self, token_id: UUID) -> TokenRecord:
        token = self._get(ApiToken, token_id, UnknownToken(f"no API token with id {token_id}"))
        return TokenRecord(
            id=token.id,
            name=token.name,
            scopes=token.token_scopes,
            recording_identity=token.recording_identity,
            issued_by=token.issued_by,
            revoked=token.revoked,
        )

    def token_by_secret(self, secret: str) -> TokenRecord | None:
        """The live (not revoked) token whose secret this is, or None."""
        if not secret or len(secret) > TOKEN_SECRET_MAX_LENGTH:
            return None
        try:
            found = self.token(token_id_for(hash_secret(secret)))
        except UnknownToken:
            return None
        return None if found.revoked else found

    # --- agents --------------------------------------------------------------------------

    def enrol_agent(
        self,
        *,
        handle: str,
        name: str,
        team_id: UUID,
        enrolled_at: datetime,
        enrolled_by: str,
        now: datetime,
    ) -> UUID:
        self.team(team_id)
        validate_moment(enrolled_at, now, field="enrolled_at")
        _require_actor(enrolled_by, "enrolled_by")
        agent = Agent.enrol(
            handle=handle,
            name=name,
            team_id=team_id,
            enrolled_at=enrolled_at.astimezone(UTC),
            enrolled_by=enrolled_by,
        )
        try:
            self.save(agent)
        except IntegrityError:
            raise AlreadyExists(
                f"an agent with the handle {agent.handle!r} exists already", field="handle"
            ) from None
        return agent.id

    def transfer_agent(self, *, agent_id: UUID, team_id: UUID, transferred_by: str) -> None:
        self.team(team_id)

        def attempt() -> None:
            agent = self._agent(agent_id)
            agent.transfer(team_id=team_id, transferred_by=transferred_by)
            self.save(agent)

        self._retrying(attempt)

    def depart_agent(
        self, *, agent_id: UUID, departed_at: datetime, recorded_by: str, now: datetime
    ) -> None:
        validate_moment(departed_at, now, field="departed_at")
        _require_actor(recorded_by, "recorded_by")

        def attempt() -> None:
            agent = self._agent(agent_id)
            agent.depart(departed_at=departed_at.astimezone(UTC), recorded_by=recorded_by)
            self.save(agent)

        self._retrying(attempt)

    def agent(self, agent_id: UUID) -> AgentRecord:
        agent = self._agent(agent_id)
        return AgentRecord(
            id=agent.id,
            handle=agent.handle,
            name=agent.name,
            team_id=agent.team_id,
            enrolled_at=agent.enrolled_at,
            departed_at=agent.departed_at,
        )

    def agent_with_handle(self, handle: str) -> AgentRecord:
        try:
            return self.agent(agent_id_for(handle))
        except UnknownAgent:
            raise UnknownAgent(f"no agent with the handle {handle!r}") from None

    # --- recognitions --------------------------------------------------------------------

    def record(self, command: RecordRecognition, *, now: datetime) -> RecordingOutcome:
        return self.record_many([command], now=now)[0]

    def record_many(
        self, commands: Sequence[RecordRecognition], *, now: datetime
    ) -> list[RecordingOutcome]:
        """Record every command or none; a repeated idempotency key records once."""
        if not commands:
            return []
        if len(commands) > MAX_BATCH:
            raise InvalidInput(
                f"a batch holds at most {MAX_BATCH} recordings, not {len(commands)}", field="items"
            )
        # The first attempt decides on what this process remembers, when it remembers
        # enough; when that was stale the append is refused and the next attempts read.
        attempts = count()
        return self._retrying(
            lambda: self._record_many_once(commands, now, remembered=next(attempts) == 0)
        )

    def _record_many_once(
        self, commands: Sequence[RecordRecognition], now: datetime, *, remembered: bool
    ) -> list[RecordingOutcome]:
        def refuse(index: int, error: DomainError) -> None:
            raise _in_batch(index, len(commands), error) from None

        prepared = self.prepare_recordings(
            commands, now=now, on_error=refuse, remembered=remembered
        )
        self.commit_recordings(prepared)
        return [outcome for outcome in prepared.outcomes if outcome is not None]

    def commit_recordings(self, prepared: PreparedRecordings) -> None:
        """Store what ``prepare_recordings`` decided, in one transaction (all or nothing),
        provided nothing it decided on has changed since (``decided_on``, checked in the
        same transaction when the recorder can). Raises the library's ``IntegrityError``
        when another writer got there first: a version taken, or a stream changed."""
        if not prepared.events:
            return
        stored = [self.mapper.to_stored_event(e) for e in prepared.events]
        if not self._append_checks_streams:  # a recorder of the library's own
            self.recorder.insert_events(stored)
        elif self.recorder.insert_events_unless_changed(stored, prepared.decided_on) is None:  # type: ignore[attr-defined]
            raise IntegrityError("a stream the recordings were decided on has changed")
        for allowance_id, allowance in prepared.allowances.items():
            self._allowance_cache.put(allowance_id, allowance)
        for recording_id, print_ in prepared.recordings.items():
            self._recording_cache.put(recording_id, print_)

    def append_stored(self, stored_events: Sequence[StoredEvent]) -> None:
        """Append events ``prepare_recordings`` decided, already encoded, in one transaction.
        Raises the library's ``IntegrityError`` when another writer got there first."""
        if stored_events:
            self.recorder.insert_events(stored_events)

    def changed_streams(self, versions: Mapping[UUID, int]) -> set[UUID]:
        """The streams among ``versions`` that have events after the version given."""
        return set(self._streams_after(versions))

    def prepare_recordings(
        self,
        commands: Sequence[RecordRecognition],
        *,
        now: datetime,
        on_error: Callable[[int, DomainError], None],
        pending: PendingRecordings | None = None,
        remembered: bool = False,
    ) -> PreparedRecordings:
        """Decide every command against the store (read in one query) and ``pending``
        (what earlier batches of the same import decided); write nothing, but remember
        the decisions in ``pending``.

        ``remembered``: decide on what this process remembers of the store instead of
        reading it, when it remembers every agent named (see ``_read_state``) and the
        recorder checks ``decided_on`` inside the append (ours do; on the library's own the
        store is read); only ``commit_recordings`` may then append the events.

        A refused command is passed to ``on_error`` with its index (which may raise) and
        leaves no trace; its outcome is None.
        """
        pending = PendingRecordings() if pending is None else pending
        checked: list[tuple[int, RecordRecognition, dict[str, Any], UUID | None]] = []
        for index, command in enumerate(commands):
            try:
                _require_actor(command.recorded_by, "recorded_by")
                data = recognition_fields(command, now)
            except DomainError as error:
                on_error(index, error)
                continue
            key = data["idempotency_key"]
            recording_id = recording_id_for(command.recorded_by, key) if key else None
            checked.append((index, command, data, recording_id))
        state = self._read_state(
            [c for _, c, _, _ in checked],
            [r for *_, r in checked],
            pending,
            remembered and self._append_checks_streams,
        )
        prepared = PreparedRecordings(outcomes=[None] * len(commands))
        for index, command, data, recording_id in checked:
            try:
                prepared.outcomes[index] = self._decide(
                    command, data, recording_id, state, prepared
                )
            except DomainError as error:
                on_error(index, error)
        for allowance_id, allowance in state.touched_allowances.items():
            prepared.events += allowance.collect_events()
            prepared.allowances[allowance_id] = allowance
        prepared.recordings.update(state.new_recordings)
        for agent_id, agent in state.agents.items():
            prepared.decided_on[agent_id] = agent.version if agent is not None else 0
        prepared.decided_on[rulebook_id_for(state.rulebooks_published + 1)] = 0
        pending.remember(state.new_recordings, state.touched_allowances)
        return prepared

    def _read_state(
        self,
        commands: Sequence[RecordRecognition],
        recording_ids: Sequence[UUID | None],
        pending: PendingRecordings,
        remembered: bool = False,
    ) -> _BatchState:
        """Everything the commands decide on, read in one query: the agents they name
        (fast-forwarding the cached ones), the recordings their idempotency keys point at,
        the givers' allowances of the day, and whether a new rulebook was published.

        ``remembered``, when every agent named is cached and the rulebooks are known: no
        query at all. The agents and rulebooks are then as cached, and ``decided_on`` makes
        the append check them; a key this process has not seen is taken as unused and an
        allowance it has not seen as unopened, and the append of the recording's first
        event, or of the allowance's next one, is refused if another writer took it."""
        cache = self.repository.cache
        cached: dict[UUID, Agent] = {}
        wanted: dict[UUID, int] = {}
        # The agents named: each command's agent, and for kudos the colleague who gives them.
        named = {command.agent_id for command in commands}
        named.update(
            command.from_agent
            for command in commands
            if command.kind is RecognitionKind.KUDOS_GIVEN and command.from_agent is not None
        )
        for agent_id in named:
            found = _cached(cache, agent_id)
            if found is not None:
                cached[agent_id] = found
            wanted[agent_id] = found.version if found is not None else 0
        keyed = {r for r in recording_ids if r is not None}
        seen = pending.recordings_among(keyed)
        allowance_ids = {
            self._allowance_id(c.from_agent, c.occurred_at)
            for c in commands
            if c.kind is RecognitionKind.KUDOS_GIVEN and c.from_agent is not None
        }
        held = pending.allowances_among(allowance_ids)
        if remembered and self._rulebook_cache and len(cached) == len(named):
            return self._remembered_state(cached, keyed, seen, allowance_ids, held)
        for stream in (keyed - seen.keys()) | (allowance_ids - held.keys()):
            wanted[stream] = 0
        next_rulebook = rulebook_id_for(len(self._rulebook_cache) + 1)
        wanted[next_rulebook] = 0
        streams = self._streams_after(wanted)
        rulebooks = self._rulebooks_for(next_rulebook in streams)
        state = _BatchState(
            rulebooks=rulebooks,
            rulebooks_published=len(self._rulebook_cache),
            recordings=seen,
            allowances=held,
        )
        for agent_id in named:
            state.agents[agent_id] = self._fast_forwarded(
                agent_id, cached.get(agent_id), streams.get(agent_id, ())
            )
        for recording_id in keyed - seen.keys():
            first = streams.get(recording_id, [None])[0]
            if isinstance(first, Recording.Recognised):
                state.recordings[recording_id] = hash(first.fingerprint)
                self._recording_cache.put(recording_id, state.recordings[recording_id])
        for allowance_id in allowance_ids - held.keys():
            allowance: Any = None
            for allowance_event in streams.get(allowance_id, ()):
                allowance = allowance_event.mutate(allowance)
            if isinstance(allowance, KudosAllowance):
                state.allowances[allowance_id] = allowance
                self._allowance_cache.put(allowance_id, deepcopy(allowance))
        return state

    def _remembered_state(
        self,
        agents: Mapping[UUID, Agent],
        keyed: set[UUID],
        seen: dict[UUID, int],
        allowance_ids: set[UUID],
        held: dict[UUID, KudosAllowance],
    ) -> _BatchState:
        """``_read_state`` from what this process remembers, without a query."""
        published, rulebooks = self._cached_rulebooks()
        state = _BatchState(
            rulebooks=rulebooks,
            rulebooks_published=published,
            agents=dict(agents),
            recordings=seen,
            allowances=held,
        )
        # A key or an allowance not remembered is the usual case (a new recording, a
        # giver's first kudos of the day): looked up first, to spare raising a KeyError.
        remembered_recordings = self._recording_cache.cache
        for recording_id in keyed - seen.keys():
            if recording_id in remembered_recordings:
                with suppress(KeyError):  # another thread's put may have evicted it since
                    state.recordings[recording_id] = self._recording_cache.get(recording_id)
        remembered_allowances = self._allowance_cache.cache
        for allowance_id in allowance_ids - held.keys():
            if allowance_id in remembered_allowances:
                with suppress(KeyError):
                    # A copy: the cached one is shared, and this one will be used.
                    state.allowances[allowance_id] = deepcopy(
                        self._allowance_cache.get(allowance_id)
                    )
        return state

    def _streams_after(self, wanted: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        """The events of each wanted stream after the given version, decoded, by stream."""
        select = getattr(self.recorder, "select_streams_after", None)
        if select is not None:
            stored = select(wanted)
        else:  # a recorder of the library's own: one query per stream
            stored = [
                event
                for stream, after in wanted.items()
                for event in self.recorder.select_events(stream, gt=after or None)
            ]
        streams: dict[UUID, list[Any]] = {}
        for stored_event in stored:
            domain_event = self.mapper.to_domain_event(stored_event)
            streams.setdefault(domain_event.originator_id, []).append(domain_event)
        return streams

    def _fast_forwarded(
        self, agent_id: UUID, cached: Agent | None, newer: Sequence[Any]
    ) -> Agent | None:
        """The agent now: the cached copy (never changed in place, others may be reading
        it) brought up to date with the events after it, or None when there is none."""
        if not newer:
            return cached
        agent: Any = deepcopy(cached)
        for agent_event in newer:
            agent = agent_event.mutate(agent)
        if not isinstance(agent, Agent):
            return None
        if self.repository.cache is not None:
            self.repository.cache.put(agent_id, agent)
        return agent

    def _rulebooks_for(self, new_one_published: bool) -> RulebookHistory:
        if new_one_published or not self._rulebook_cache:
            return self.rulebooks()
        return self._cached_rulebooks()[1]

    def _cached_rulebooks(self) -> tuple[int, RulebookHistory]:
        """How many rulebooks are cached, and their history (built once per new one; the
        cache must not be empty)."""
        with self._rulebook_cache_lock:
            published = len(self._rulebook_cache)
            if self._rulebook_history is None or self._rulebook_history[0] != published:
                history = RulebookHistory(tuple(Publication(e, r) for e, r in self._rulebook_cache))
                self._rulebook_history = (published, history)
            return self._rulebook_history

    def _allowance_id(self, giver: UUID, occurred_at: datetime) -> UUID:
        return KudosAllowance.create_id(giver, occurred_at.astimezone(self.timezone).date())

    def _decide(
        self,
        command: RecordRecognition,
        data: dict[str, Any],
        recording_id: UUID | None,
        state: _BatchState,
        prepared: PreparedRecordings,
    ) -> RecordingOutcome:
        agent = state.agents.get(command.agent_id)
        if agent is None:
            raise UnknownAgent(f"no agent with id {command.agent_id}")
        giver = None
        if command.kind is RecognitionKind.KUDOS_GIVEN and command.from_agent is not None:
            giver = state.agents.get(command.from_agent)
            if giver is None:
                raise UnknownAgent(
                    f"no colleague with id {command.from_agent} to give the kudos",
                    field="from_agent",
                )
        if recording_id is not None:
            print_ = hash(fingerprint(command.kind, data))
            # A replay is a replay whatever happened since (the agent may have departed).
            earlier = state.recordings.get(recording_id)
            if earlier is not None:
                if earlier != print_:
                    raise IdempotencyKeyReused(
                        f"the idempotency key {data['idempotency_key']!r} was already used "
                        "for a different recording"
                    )
                return RecordingOutcome(recording_id=recording_id, created=False)
        else:
            recording_id = uuid4()
            print_ = 0
        validate_agents(command, agent, giver)
        if giver is not None:
            self._use_allowance(command, giver.id, recording_id, state)
        event_class = EVENT_CLASS_FOR_KIND[command.kind]
        prepared.events.append(
            recognised_event(event_class, recording_id, event_class.create_timestamp(), data)
        )
        if data["idempotency_key"]:
            state.recordings[recording_id] = print_
            state.new_recordings[recording_id] = print_
        return RecordingOutcome(recording_id=recording_id, created=True)

    def _use_allowance(
        self, command: RecordRecognition, giver_id: UUID, recording_id: UUID, state: _BatchState
    ) -> None:
        cap = state.rulebooks.in_force_at(command.occurred_at).kudos_cap_per_giver_per_day
        allowance_id = self._allowance_id(giver_id, command.occurred_at)
        allowance = state.allowances.get(allowance_id)
        if allowance is None:
            allowance = KudosAllowance.open(
                giver=giver_id,
                day=command.occurred_at.astimezone(self.timezone).date(),
                recording_id=recording_id,
                cap=cap,
            )
        else:
            allowance.use(recording_id=recording_id, cap=cap)
        state.allowances[allowance_id] = allowance
        state.touched_allowances[allowance_id] = allowance

    def _short_stream(self, aggregate_id: UUID) -> Aggregate | None:
        """Load an aggregate that is never snapshotted (a recording, an allowance) with one
        query, skipping the repository's snapshot look-up."""
        aggregate: Any = None
        for domain_event in self.events.get(aggregate_id):
            aggregate = cast("Aggregate.Event", domain_event).mutate(aggregate)
        return aggregate if isinstance(aggregate, Aggregate) else None

    def _existing_recording(self, recording_id: UUID) -> Recording | None:
        recording = self._short_stream(recording_id)
        return recording if isinstance(recording, Recording) else None

    def _existing_allowance(self, allowance_id: UUID) -> KudosAllowance | None:
        allowance = self._short_stream(allowance_id)
        return allowance if isinstance(allowance, KudosAllowance) else None

    def retract(
        self, *, recording_id: UUID, retracted_by: str, by_admin: bool, reason: str
    ) -> None:
        """Retract a recording: a new fact; its effect leaves every read model from now on."""
        _require_actor(retracted_by, "retracted_by")

        def attempt() -> None:
            recording = self._existing_recording(recording_id)
            if recording is None:
                raise UnknownRecording(f"no recording with id {recording_id}")
            recording.retract(retracted_by=retracted_by, by_admin=by_admin, reason=reason)
            self.save(recording)

        self._retrying(attempt)

    def recording(self, recording_id: UUID) -> RecordingRecord:
        recording = self._existing_recording(recording_id)
        if recording is None:
            raise UnknownRecording(f"no recording with id {recording_id}")
        return RecordingRecord(
            id=recording.id,
            agent_id=recording.agent_id,
            kind=RecognitionKind(recording.kind),
            recorded_by=recording.recorded_by,
            retracted=recording.retracted,
        )
