"""several themes per answer, disputed and set-aside answers, pinned quotes, summaries by
answer id, and one raw copy of free text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWERED = True  # what a session keeps of a free-text answer: that there is one


def upgrade() -> None:
    op.create_table(
        'answer_themes',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=40), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('question_id', sa.String(length=40), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answers.id'],
                                name=op.f('fk_answer_themes_answer_id_answers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('answer_id', 'theme', name=op.f('pk_answer_themes')))
    with op.batch_alter_table('answer_themes', schema=None) as batch_op:
        batch_op.create_index('ix_answer_themes_question_theme',
                              ['consultation_id', 'question_id', 'theme', 'answer_id'])
    op.create_table(
        'pinned_quotes',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=40), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('question_id', sa.String(length=40), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('pinned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answers.id'],
                                name=op.f('fk_pinned_quotes_answer_id_answers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('answer_id', 'theme', name=op.f('pk_pinned_quotes')))
    with op.batch_alter_table('pinned_quotes', schema=None) as batch_op:
        batch_op.create_index('ix_pinned_quotes_consultation',
                              ['consultation_id', 'question_id', 'theme'])
    op.create_table(
        'summary_requests',
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('consultation_id', name=op.f('pk_summary_requests')))
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disputed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('excluded', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('excluded_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('excluded_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_answers_consultation_disputed',
                              ['consultation_id', 'disputed'])
    with op.batch_alter_table('answer_labels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('negative', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('choice', sa.String(length=32), nullable=True))

    connection = op.get_bind()
    # Every theme that counted so far becomes the answer's one theme.
    connection.execute(sa.text(
        "INSERT INTO answer_themes (answer_id, theme, consultation_id, question_id, score, "
        "source) SELECT id, theme, consultation_id, question_id, theme_score, theme_source "
        "FROM answers WHERE theme IS NOT NULL AND theme_source IS NOT NULL"))
    # Summaries held copies of answers' text: forget them and have them computed again.
    consultations = connection.execute(
        sa.text("SELECT id, definition FROM consultations")).all()
    connection.execute(sa.text("DELETE FROM theme_summaries"))
    now = connection.execute(sa.select(sa.func.current_timestamp())).scalar()
    for consultation_id, _ in consultations:
        connection.execute(sa.text("INSERT INTO summary_requests (consultation_id, "
                                   "requested_at) VALUES (:c, :at)"),
                           {"c": consultation_id, "at": now})
    _one_raw_copy(connection, consultations)


def _one_raw_copy(connection, consultations) -> None:
    """Leaves the raw text of free-text answers in answers.raw_text alone: not in
    answers.value, not in the session's state."""
    text_questions = {}
    for consultation_id, definition in consultations:
        if isinstance(definition, str):
            definition = json.loads(definition)
        text_questions[consultation_id] = {q["id"] for q in definition.get("questions", [])
                                           if q.get("type") == "text"}
    for consultation_id, questions in text_questions.items():
        if not questions:
            continue
        connection.execute(
            sa.text("UPDATE answers SET value = NULL WHERE consultation_id = :c "
                    "AND question_id IN :q").bindparams(sa.bindparam("q", expanding=True)),
            {"c": consultation_id, "q": sorted(questions)})
    sessions = sa.table('consultation_sessions', sa.column('id', sa.Integer),
                        sa.column('consultation_id', sa.String), sa.column('state', sa.JSON))
    after = 0
    while True:
        rows = connection.execute(sa.select(sessions.c.id, sessions.c.consultation_id,
                                            sessions.c.state)
                                  .where(sessions.c.id > after).order_by(sessions.c.id)
                                  .limit(1000)).all()
        if not rows:
            return
        for session_id, consultation_id, state in rows:
            answers = (state or {}).get("answers") or {}
            questions = text_questions.get(consultation_id, set())
            if any(q in questions and v is not ANSWERED for q, v in answers.items()):
                state = {**state, "answers": {q: ANSWERED if q in questions else v
                                              for q, v in answers.items()}}
                connection.execute(sessions.update().where(sessions.c.id == session_id)
                                   .values(state=state))
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('answer_labels', schema=None) as batch_op:
        batch_op.drop_column('choice')
        batch_op.drop_column('negative')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_consultation_disputed')
        batch_op.drop_column('excluded_at')
        batch_op.drop_column('excluded_by')
        batch_op.drop_column('excluded')
        batch_op.drop_column('disputed')
    op.drop_table('summary_requests')
    with op.batch_alter_table('pinned_quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_pinned_quotes_consultation')
    op.drop_table('pinned_quotes')
    with op.batch_alter_table('answer_themes', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_themes_question_theme')
    op.drop_table('answer_themes')
