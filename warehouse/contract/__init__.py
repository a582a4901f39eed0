"""The fixed interface: the city, its departments and feeds with their columns, code lists and
rejection reasons, and the workday calendar their deadlines follow."""
