'use strict';
// The members-api tables (../members-api/schema.sql) as Sequelize 6 models.
const { DataTypes } = require('sequelize');

function defineModels(sequelize) {
  const options = { timestamps: false, underscored: true };
  const Member = sequelize.define('Member', {
    name: DataTypes.TEXT,
    email: DataTypes.TEXT,
    joinedOn: DataTypes.DATEONLY,
    plan: DataTypes.TEXT,
  }, { ...options, tableName: 'members' });
  const Invoice = sequelize.define('Invoice', {
    memberId: DataTypes.INTEGER,
    issuedOn: DataTypes.DATEONLY,
    amountCents: DataTypes.INTEGER,
    status: DataTypes.TEXT,
  }, { ...options, tableName: 'invoices' });
  const Payment = sequelize.define('Payment', {
    invoiceId: DataTypes.INTEGER,
    paidOn: DataTypes.DATEONLY,
    amountCents: DataTypes.INTEGER,
    method: DataTypes.TEXT,
  }, { ...options, tableName: 'payments' });
  Member.hasMany(Invoice, { foreignKey: 'memberId', as: 'invoices' });
  Invoice.hasMany(Payment, { foreignKey: 'invoiceId', as: 'payments' });
  return { Member, Invoice, Payment };
}

module.exports = { defineModels };
