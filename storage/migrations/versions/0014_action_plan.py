"""the shared action plan: actions, their themes, statuses, milestones, history, comments,
follow-up indicators and their measurements; feedback sent from an action

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses Relais ships, as rows an operator can read and add to.
STATUSES = [
    {'key': 'proposee', 'name': 'Proposée', 'position': 10, 'default_progress': 0,
     'description': "Proposée par une association, en attente d'une décision."},
    {'key': 'a_lancer', 'name': 'À lancer', 'position': 20, 'default_progress': 0,
     'description': 'Décidée, pas encore commencée.'},
    {'key': 'en_cours', 'name': 'En cours', 'position': 30, 'default_progress': None,
     'description': 'Commencée.'},
    {'key': 'realisee', 'name': 'Réalisée', 'position': 40, 'default_progress': 100,
     'description': 'Terminée.'},
    {'key': 'abandonnee', 'name': 'Abandonnée', 'position': 50, 'default_progress': None,
     'description': 'Arrêtée : la raison est dans son historique.'},
]


def upgrade() -> None:
    statuses = op.create_table(
        'action_statuses',
        sa.Column('key', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('default_progress', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_action_statuses')))
    op.bulk_insert(statuses, STATUSES)
    op.create_table(
        'actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('consultation_id', sa.String(length=40), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('owner_association_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=True),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('public', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('proposer_association_id', sa.Integer(), nullable=True),
        sa.Column('decision', sa.String(length=12), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                                name=op.f('fk_actions_consultation_id_consultations')),
        sa.ForeignKeyConstraint(['merged_into_id'], ['actions.id'], ondelete='SET NULL',
                                name=op.f('fk_actions_merged_into_id_actions')),
        sa.ForeignKeyConstraint(['owner_association_id'], ['associations.id'],
                                ondelete='SET NULL',
                                name=op.f('fk_actions_owner_association_id_associations')),
        sa.ForeignKeyConstraint(['parent_id'], ['actions.id'], ondelete='SET NULL',
                                name=op.f('fk_actions_parent_id_actions')),
        sa.ForeignKeyConstraint(['proposer_association_id'], ['associations.id'],
                                ondelete='SET NULL',
                                name=op.f('fk_actions_proposer_association_id_associations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')))
    op.create_index('ix_actions_consultation', 'actions', ['consultation_id'])
    op.create_index('ix_actions_parent', 'actions', ['parent_id'])
    op.create_table(
        'action_themes',
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=40), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('question_id', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ondelete='CASCADE',
                                name=op.f('fk_action_themes_action_id_actions')),
        sa.PrimaryKeyConstraint('action_id', 'theme', name=op.f('pk_action_themes')))
    op.create_index('ix_action_themes_consultation_theme', 'action_themes',
                    ['consultation_id', 'theme'])
    op.create_table(
        'action_milestones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ondelete='CASCADE',
                                name=op.f('fk_action_milestones_action_id_actions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_milestones')))
    op.create_index(op.f('ix_action_milestones_action_id'), 'action_milestones', ['action_id'])
    op.create_table(
        'action_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('old', sa.Text(), nullable=True),
        sa.Column('new', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ondelete='CASCADE',
                                name=op.f('fk_action_history_action_id_actions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_history')))
    op.create_index(op.f('ix_action_history_action_id'), 'action_history', ['action_id'])
    op.create_table(
        'action_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('association_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ondelete='CASCADE',
                                name=op.f('fk_action_comments_action_id_actions')),
        sa.ForeignKeyConstraint(['association_id'], ['associations.id'], ondelete='SET NULL',
                                name=op.f('fk_action_comments_association_id_associations')),
        sa.ForeignKeyConstraint(['author_id'], ['admin_users.id'], ondelete='SET NULL',
                                name=op.f('fk_action_comments_author_id_admin_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_comments')))
    op.create_index(op.f('ix_action_comments_action_id'), 'action_comments', ['action_id'])
    op.create_table(
        'plan_indicators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('level', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('definition', sa.Text(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('collector', sa.String(length=200), nullable=False),
        sa.Column('validator', sa.String(length=200), nullable=False),
        sa.Column('baseline', sa.Float(), nullable=True),
        sa.Column('target', sa.Float(), nullable=True),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('frequency', sa.String(length=40), nullable=False),
        sa.Column('computed', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                                name=op.f('fk_plan_indicators_consultation_id_consultations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_indicators')))
    op.create_index(op.f('ix_plan_indicators_consultation_id'), 'plan_indicators',
                    ['consultation_id'])
    op.create_table(
        'plan_measurements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('entered_by', sa.String(length=120), nullable=False),
        sa.Column('validated_by', sa.String(length=120), nullable=True),
        sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('automatic_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['indicator_id'], ['plan_indicators.id'], ondelete='CASCADE',
                                name=op.f('fk_plan_measurements_indicator_id_plan_indicators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measurements')),
        sa.UniqueConstraint('indicator_id', 'automatic_on',
                            name=op.f('uq_plan_measurements_indicator_id')))
    op.create_index(op.f('ix_plan_measurements_indicator_id'), 'plan_measurements',
                    ['indicator_id'])
    with op.batch_alter_table('feedback_messages') as batch:
        batch.add_column(sa.Column('action_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_feedback_messages_action_id'), ['action_id'])
        batch.create_foreign_key(batch.f('fk_feedback_messages_action_id_actions'), 'actions',
                                 ['action_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('feedback_messages') as batch:
        batch.drop_constraint(batch.f('fk_feedback_messages_action_id_actions'),
                              type_='foreignkey')
        batch.drop_index(batch.f('ix_feedback_messages_action_id'))
        batch.drop_column('action_id')
    op.drop_index(op.f('ix_plan_measurements_indicator_id'), table_name='plan_measurements')
    op.drop_table('plan_measurements')
    op.drop_index(op.f('ix_plan_indicators_consultation_id'), table_name='plan_indicators')
    op.drop_table('plan_indicators')
    op.drop_index(op.f('ix_action_comments_action_id'), table_name='action_comments')
    op.drop_table('action_comments')
    op.drop_index(op.f('ix_action_history_action_id'), table_name='action_history')
    op.drop_table('action_history')
    op.drop_index(op.f('ix_action_milestones_action_id'), table_name='action_milestones')
    op.drop_table('action_milestones')
    op.drop_index('ix_action_themes_consultation_theme', table_name='action_themes')
    op.drop_table('action_themes')
    op.drop_index('ix_actions_parent', table_name='actions')
    op.drop_index('ix_actions_consultation', table_name='actions')
    op.drop_table('actions')
    op.drop_table('action_statuses')
