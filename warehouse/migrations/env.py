from alembic import context
from sqlalchemy import Engine

from warehouse.migrate import hold_upgrade_lock
from warehouse.models import Base

engine: Engine = context.config.attributes["engine"]
with engine.begin() as connection:
    hold_upgrade_lock(connection)  # before Alembic reads the revision: the next station then sees head
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    context.run_migrations()
