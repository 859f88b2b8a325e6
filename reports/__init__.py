"""Printed and exported reports of an act: pure renderers from plain data (``reports.model``) to files.

- ``reports.pdf``: ``acceptance_pdf``, ``discrepancy_pdf``, ``labels_pdf``, ``outgoing_act_pdf``
- ``reports.excel``: ``codes_xlsx``
- ``reports.datamatrix``: GS1 / plain Data Matrix symbols (``encode``, ``module_matrix``, ``png``,
  ``DataMatrixFlowable``)
- ``reports.codes_text``: ``hri``, ``visible_gs`` and their inverses
- ``reports.texts``: the report languages and the words of the closed sets (every word is in the
  catalogs, warehouse/translations)
- ``reports.errors``: ``ReportError``

Nothing here touches the database or Flask; see docs/reports.md.
"""
